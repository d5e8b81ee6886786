"""PCNet (Jiang et al., "Rain-free and Residue Hand-in-Hand", TIP 2021; kuijiang94/PCNet).

Two coupled feature streams at half resolution, background (B) and rain residue (R), exchange
information in ``num_crb`` coupled representation blocks; the reconstruction block returns the
background image and a re-synthesised rainy image. Parameter names follow the authors'
``model/PCNet.py`` so their state_dict loads key for key; as there, one PReLU (``act``) is shared
by every block that takes ``act``. Inputs must have sides divisible by 4 (``size_divisor``).
"""
import torch
from torch import nn

from danet.models.base import Generator
from danet.registry import MODELS


class DSConv(nn.Sequential):
    """Depthwise 3×3 then pointwise 1×1 conv, both with bias (``depth_conv``, ``point_conv``)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.depth_conv = nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels)
        self.point_conv = nn.Conv2d(in_channels, out_channels, 1)


def _gate(in_channels: int, hidden: int, out_channels: int) -> nn.Sequential:
    """1×1 conv → PReLU → 1×1 conv → sigmoid, bias-free (``conv_du``)."""
    return nn.Sequential(nn.Conv2d(in_channels, hidden, 1, bias=False), nn.PReLU(),
                         nn.Conv2d(hidden, out_channels, 1, bias=False), nn.Sigmoid())


class ChannelAttention(nn.Module):
    """``x * gate(avgpool(x))``."""

    def __init__(self, channels: int, reduction: int):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_du = _gate(channels, channels // reduction, channels)

    def forward(self, x):
        return x * self.conv_du(self.avg_pool(x))


class PixelAttention(nn.Module):
    """``x * gate(x)`` per pixel (the authors' ``SALayer``)."""

    def __init__(self, channels: int, reduction: int):
        super().__init__()
        self.conv_du = _gate(channels, channels // reduction, channels)

    def forward(self, x):
        return x * self.conv_du(x)


class DSAttentionBlock(nn.Module):
    """``CA(dsconv(act(dsconv(x)))) + x`` (the authors' ``CAB_dsc``)."""

    def __init__(self, channels: int, reduction: int, act: nn.Module):
        super().__init__()
        self.CA = ChannelAttention(channels, reduction)
        self.body = nn.Sequential(DSConv(channels, channels), act, DSConv(channels, channels))

    def forward(self, x):
        return self.CA(self.body(x)) + x


def _up(channels: int, act: nn.Module) -> nn.Sequential:
    """Transposed 3×3 conv, stride 2 (exactly 2× the size), then ``act``."""
    return nn.Sequential(nn.ConvTranspose2d(channels, channels, 3, stride=2, padding=1,
                                            output_padding=1, bias=False), act)


class CoupledBlock(nn.Module):
    """One CRB: R is refined at half its resolution; B and R then swap attention-selected parts:
    ``B' = B - A_B(B) + A_R(R~)``, ``R' = R~ - A_R(R~) + A_B(B)``."""

    def __init__(self, channels: int, reduction: int, act: nn.Module, num_blocks: int):
        super().__init__()
        self.down_R = nn.Conv2d(channels, channels, 3, stride=2, padding=1, bias=False)
        self.act1 = act
        self.body = nn.Sequential(*[DSAttentionBlock(channels, reduction, act)
                                    for _ in range(num_blocks)])
        self.lfsfb = nn.Module()
        self.lfsfb.FFU = nn.ConvTranspose2d(channels, channels, 3, stride=2, padding=1,
                                            output_padding=1, bias=False)
        self.lfsfb.act2 = act
        self.CA_B = PixelAttention(channels, reduction)
        self.CA_R = PixelAttention(channels, reduction)

    def forward(self, streams: tuple[torch.Tensor, torch.Tensor]):
        b, r = streams
        refined = self.body(self.act1(self.down_R(r)))
        r = r + self.lfsfb.act2(self.lfsfb.FFU(refined))
        b_to_r, r_to_b = self.CA_B(b), self.CA_R(r)
        return b - b_to_r + r_to_b, r - r_to_b + b_to_r


class Reconstruction(nn.Module):
    """Background ``recon_B(B)`` and re-synthesised rainy image
    ``a * recon_B + (1 - a) * recon_R`` with ``a = gate(avgpool(recon_B + recon_R))``."""

    def __init__(self, channels: int):
        super().__init__()
        self.recon_B = nn.Conv2d(channels, 3, 3, padding=1, bias=False)
        self.recon_R = nn.Conv2d(channels, 3, 3, padding=1, bias=False)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_du = _gate(3, channels, 3)

    def forward(self, b, r):
        background, rain = self.recon_B(b), self.recon_R(r)
        weight = self.conv_du(self.avg_pool(background + rain))
        return background, background * weight + rain * (1 - weight)


class _PCNetBody(nn.Module):
    def __init__(self, n_feat: int, reduction: int, num_crb: int, num_rcab: int):
        super().__init__()
        act = nn.PReLU()   # shared, as in the release
        self.image_fea = nn.Conv2d(3, n_feat, 3, padding=1, bias=False)
        self.shallow_fea_B = DSConv(n_feat, n_feat)
        self.shallow_fea_R = DSConv(n_feat, n_feat)
        self.down_B = nn.Conv2d(n_feat, n_feat, 3, stride=2, padding=1, bias=False)
        self.down_R = nn.Conv2d(n_feat, n_feat, 3, stride=2, padding=1, bias=False)
        self.crm = nn.Module()
        self.crm.body = nn.Sequential(*[CoupledBlock(n_feat, reduction, act, num_rcab)
                                        for _ in range(num_crb)])
        self.UP_B = _up(n_feat, act)
        self.UP_R = _up(n_feat, act)
        self.rrb = Reconstruction(n_feat)

    def forward(self, x):
        features = self.image_fea(x)
        b = self.down_B(self.shallow_fea_B(features))
        r = self.down_R(self.shallow_fea_R(features))
        for block in self.crm.body:
            b, r = block((b, r))
        return self.rrb(self.UP_B(b), self.UP_R(r))


@MODELS.register_module()
class PCNet(Generator):
    """PCNet generator; ``forward`` returns ``[background, re-synthesised rainy image]``.

    Args:
        n_feat: feature channels. reduction: attention reduction.
        num_crb: coupled representation blocks. num_rcab: attention blocks per CRB.
    """

    size_divisor = 4

    def __init__(self, n_feat: int = 32, reduction: int = 4, num_crb: int = 20,
                 num_rcab: int = 3):
        super().__init__()
        self.model = _PCNetBody(n_feat, reduction, num_crb, num_rcab)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return list(self.model(x))
