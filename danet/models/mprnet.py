"""MPRNet deraining generator (Zamir et al., CVPR 2021), rebuilt from ``MPRNET_SPEC.md``.

Module and parameter names follow the authors' release, so their ``state_dict`` loads strictly.
One PReLU is shared by all 55 CABs; it is never registered at the top level (its single scalar
appears under every CAB's ``body.1.weight`` key, as in the release).
"""
import torch
from torch import nn

from danet.models.base import Generator
from danet.models.common import CAB, DownSample, UpSample, conv
from danet.registry import MODELS


def _cabs(channels: int, count: int, act: nn.Module) -> nn.Sequential:
    return nn.Sequential(*[CAB(channels, act=act) for _ in range(count)])


class SkipUpSample(UpSample):
    """``UpSample(x) + skip``."""

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.up(x) + skip


class Encoder(nn.Module):
    """Three-level U-Net encoder (2 CABs per level); ``csff`` adds stage-1 features per level."""

    def __init__(self, n_feat: int, scale: int, act: nn.Module, csff: bool):
        super().__init__()
        widths = [n_feat + k * scale for k in range(3)]
        self.encoder_level1 = _cabs(widths[0], 2, act)
        self.encoder_level2 = _cabs(widths[1], 2, act)
        self.encoder_level3 = _cabs(widths[2], 2, act)
        self.down12 = DownSample(widths[0], widths[1])
        self.down23 = DownSample(widths[1], widths[2])
        if csff:
            for k, c in enumerate(widths, start=1):
                setattr(self, f'csff_enc{k}', conv(c, c, 1))
            for k, c in enumerate(widths, start=1):
                setattr(self, f'csff_dec{k}', conv(c, c, 1))
        self.csff = csff

    def _fuse(self, k: int, x, enc_outs, dec_outs):
        if self.csff and enc_outs is not None and dec_outs is not None:
            x = x + getattr(self, f'csff_enc{k}')(enc_outs[k - 1]) + \
                getattr(self, f'csff_dec{k}')(dec_outs[k - 1])
        return x

    def forward(self, x, enc_outs=None, dec_outs=None) -> list[torch.Tensor]:
        enc1 = self._fuse(1, self.encoder_level1(x), enc_outs, dec_outs)
        enc2 = self._fuse(2, self.encoder_level2(self.down12(enc1)), enc_outs, dec_outs)
        enc3 = self._fuse(3, self.encoder_level3(self.down23(enc2)), enc_outs, dec_outs)
        return [enc1, enc2, enc3]


class Decoder(nn.Module):
    """Three-level U-Net decoder, skips through a CAB; returns ``[d1, d2, d3]`` (finest first)."""

    def __init__(self, n_feat: int, scale: int, act: nn.Module):
        super().__init__()
        w1, w2, w3 = (n_feat + k * scale for k in range(3))
        self.decoder_level1 = _cabs(w1, 2, act)
        self.decoder_level2 = _cabs(w2, 2, act)
        self.decoder_level3 = _cabs(w3, 2, act)
        self.skip_attn1 = CAB(w1, act=act)
        self.skip_attn2 = CAB(w2, act=act)
        self.up21 = SkipUpSample(w2, w1)
        self.up32 = SkipUpSample(w3, w2)

    def forward(self, enc: list[torch.Tensor]) -> list[torch.Tensor]:
        d3 = self.decoder_level3(enc[2])
        d2 = self.decoder_level2(self.up32(d3, self.skip_attn2(enc[1])))
        d1 = self.decoder_level1(self.up21(d2, self.skip_attn1(enc[0])))
        return [d1, d2, d3]


class SAM(nn.Module):
    """Supervised attention: image ``R = conv2(F) + J``, features ``conv1(F) * σ(conv3(R)) + F``."""

    def __init__(self, n_feat: int, kernel_size: int = 1):
        super().__init__()
        self.conv1 = conv(n_feat, n_feat, kernel_size)
        self.conv2 = conv(n_feat, 3, kernel_size)
        self.conv3 = conv(3, n_feat, kernel_size)

    def forward(self, feat: torch.Tensor, image: torch.Tensor):
        restored = self.conv2(feat) + image
        refined = self.conv1(feat) * torch.sigmoid(self.conv3(restored)) + feat
        return refined, restored


class ORB(nn.Module):
    """Original-resolution block: ``num_cab`` CABs and a 3x3 conv, plus identity."""

    def __init__(self, channels: int, num_cab: int, act: nn.Module):
        super().__init__()
        self.body = nn.Sequential(*[CAB(channels, act=act) for _ in range(num_cab)],
                                  conv(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + x


class ORSNet(nn.Module):
    """Three ORBs at full resolution, each followed by projected stage-2 encoder/decoder maps."""

    def __init__(self, n_feat: int, scale_orsnetfeats: int, num_cab: int, scale_unetfeats: int,
                 act: nn.Module):
        super().__init__()
        width = n_feat + scale_orsnetfeats
        w1, w2, w3 = (n_feat + k * scale_unetfeats for k in range(3))
        self.orb1 = ORB(width, num_cab, act)
        self.orb2 = ORB(width, num_cab, act)
        self.orb3 = ORB(width, num_cab, act)
        self.up_enc1 = UpSample(w2, w1)
        self.up_dec1 = UpSample(w2, w1)
        self.up_enc2 = nn.Sequential(UpSample(w3, w2), UpSample(w2, w1))
        self.up_dec2 = nn.Sequential(UpSample(w3, w2), UpSample(w2, w1))
        for name in ('conv_enc1', 'conv_enc2', 'conv_enc3', 'conv_dec1', 'conv_dec2', 'conv_dec3'):
            setattr(self, name, conv(w1, width, 1))

    def forward(self, x, enc: list[torch.Tensor], dec: list[torch.Tensor]) -> torch.Tensor:
        x = self.orb1(x) + self.conv_enc1(enc[0]) + self.conv_dec1(dec[0])
        x = (self.orb2(x) + self.conv_enc2(self.up_enc1(enc[1]))
             + self.conv_dec2(self.up_dec1(dec[1])))
        x = (self.orb3(x) + self.conv_enc3(self.up_enc2(enc[2]))
             + self.conv_dec3(self.up_dec2(dec[2])))
        return x


def _cat_levels(a: list[torch.Tensor], b: list[torch.Tensor], dim: int) -> list[torch.Tensor]:
    return [torch.cat([x, y], dim) for x, y in zip(a, b, strict=True)]


@MODELS.register_module()
class MPRNet(Generator):
    """Three-stage progressive deraining network; ``forward`` returns ``[stage3, stage2, stage1]``.

    The released configuration is the default (3x3 kernels, CA reduction 4, bias-free convs).

    Height and width must be multiples of ``size_divisor`` (8); pad first (the data preprocessor
    and ``tiled_forward`` do) or a ``ValueError`` names the offending size.
    """

    size_divisor = 8

    @staticmethod
    def official_keys(state_dict: dict) -> dict:
        """Official MPRNet keys are ours (the converter only checks them)."""
        return dict(state_dict)

    def __init__(self, in_c: int = 3, out_c: int = 3, n_feat: int = 40, scale_unetfeats: int = 20,
                 scale_orsnetfeats: int = 16, num_cab: int = 8):
        super().__init__()
        act = nn.PReLU()  # shared by every CAB; deliberately not an attribute of this module
        ors_width = n_feat + scale_orsnetfeats
        self.shallow_feat1 = nn.Sequential(conv(in_c, n_feat), CAB(n_feat, act=act))
        self.shallow_feat2 = nn.Sequential(conv(in_c, n_feat), CAB(n_feat, act=act))
        self.shallow_feat3 = nn.Sequential(conv(in_c, n_feat), CAB(n_feat, act=act))
        self.stage1_encoder = Encoder(n_feat, scale_unetfeats, act, csff=False)
        self.stage1_decoder = Decoder(n_feat, scale_unetfeats, act)
        self.stage2_encoder = Encoder(n_feat, scale_unetfeats, act, csff=True)
        self.stage2_decoder = Decoder(n_feat, scale_unetfeats, act)
        self.stage3_orsnet = ORSNet(n_feat, scale_orsnetfeats, num_cab, scale_unetfeats, act)
        self.sam12 = SAM(n_feat)
        self.sam23 = SAM(n_feat)
        self.concat12 = conv(2 * n_feat, n_feat)
        self.concat23 = conv(2 * n_feat, ors_width)
        self.tail = conv(ors_width, out_c)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        height, width = x.shape[-2:]
        if height % self.size_divisor or width % self.size_divisor:
            raise ValueError(f'MPRNet needs height and width divisible by {self.size_divisor}; '
                             f'got {height}x{width}. Reflect-pad right/bottom, crop the output.')
        h, w = height // 2, width // 2
        halves = [x[:, :, :h], x[:, :, h:]]
        quads = [[half[..., :w], half[..., w:]] for half in halves]

        # Stage 1: four quadrants -> two halves.
        enc1, dec1, sam_feats, stage1_imgs = [], [], [], []
        for half, (left, right) in zip(halves, quads, strict=True):
            enc = _cat_levels(self.stage1_encoder(self.shallow_feat1(left)),
                              self.stage1_encoder(self.shallow_feat1(right)), dim=3)
            dec = self.stage1_decoder(enc)
            feat, img = self.sam12(dec[0], half)
            enc1.append(enc)
            dec1.append(dec)
            sam_feats.append(feat)
            stage1_imgs.append(img)
        stage1 = torch.cat(stage1_imgs, 2)

        # Stage 2: two halves -> full image.
        enc2 = [self.stage2_encoder(self.concat12(torch.cat([self.shallow_feat2(half), feat], 1)),
                                    enc, dec)
                for half, feat, enc, dec in zip(halves, sam_feats, enc1, dec1, strict=True)]
        enc2 = _cat_levels(enc2[0], enc2[1], dim=2)
        dec2 = self.stage2_decoder(enc2)
        feat3, stage2 = self.sam23(dec2[0], x)

        # Stage 3: original resolution.
        feat = self.concat23(torch.cat([self.shallow_feat3(x), feat3], 1))
        stage3 = self.tail(self.stage3_orsnet(feat, enc2, dec2)) + x
        return [stage3, stage2, stage1]
