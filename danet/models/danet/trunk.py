"""The two-branch trunk shared in structure by DANet's sub-networks, and its switchable branches.

``DualBranchTrunk`` runs an ORSNet branch and a U-shaped branch in parallel on the same features and
fuses them with ``S2FB2``. Either branch can be ``NoBranch``: with one branch on, its output is the
trunk's; with both off the trunk is the identity.
"""
import torch
from torch import nn

from danet.models.common import CAB, DownSample, UpSample, conv
from danet.models.danet.blocks import S2FB2, DecoderLevel, EncoderLevel
from danet.registry import MODELS


@MODELS.register_module()
class ORSNetBranch(nn.Module):
    """Original-resolution branch: ``x + conv(CAB^num_cab(x))``."""

    size_divisor = 1

    def __init__(self, n_feat: int = 64, num_cab: int = 10, reduction: int = 4,
                 act: nn.Module | None = None):
        super().__init__()
        act = act if act is not None else nn.PReLU()
        self.body = nn.Sequential(*[CAB(n_feat, 3, reduction, act=act) for _ in range(num_cab)],
                                  conv(n_feat, n_feat))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).add_(x)


class Encoder(nn.Module):
    """Three levels at 1/2, 1/4, 1/8 of the input, each preceded by a bilinear downsampler."""

    def __init__(self, n_feat: int, reduction: int, act: nn.Module):
        super().__init__()
        for level in (1, 2, 3):
            setattr(self, f'down_stage{level}', DownSample(n_feat, n_feat))
            setattr(self, f'encoder_level{level}', EncoderLevel(n_feat, reduction, act))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        enc1 = self.encoder_level1(self.down_stage1(x))
        enc2 = self.encoder_level2(self.down_stage2(enc1))
        enc3 = self.encoder_level3(self.down_stage3(enc2))
        return [enc1, enc2, enc3]


class Decoder(nn.Module):
    """Dense cross-scale decoder: every level fuses all three encoder outputs at its own scale."""

    def __init__(self, n_feat: int, reduction: int, act: nn.Module):
        super().__init__()
        for level in (1, 2, 3):
            setattr(self, f'decoder_level{level}', DecoderLevel(n_feat, reduction, act))
            setattr(self, f'up_stage{level}', UpSample(n_feat, n_feat))
        self.down_13 = DownSample(n_feat, n_feat, factor=4)
        self.down_23 = DownSample(n_feat, n_feat)
        self.down_12 = DownSample(n_feat, n_feat)
        self.up_32 = UpSample(n_feat, n_feat)
        self.up_31 = UpSample(n_feat, n_feat, factor=4)
        self.up_21 = UpSample(n_feat, n_feat)

    def forward(self, encoded: list[torch.Tensor]) -> torch.Tensor:
        enc1, enc2, enc3 = encoded
        dec3 = self.decoder_level3(enc3, enc3, self.down_23(enc2), self.down_13(enc1))
        dec2 = self.decoder_level2(self.up_stage3(dec3), enc2, self.down_12(enc1), self.up_32(enc3))
        dec1 = self.decoder_level1(self.up_stage2(dec2), enc1, self.up_21(enc2), self.up_31(enc3))
        return self.up_stage1(dec1)


@MODELS.register_module()
class UNetBranch(nn.Module):
    """U-shaped branch (``Encoder`` + ``Decoder``); needs sizes divisible by 8."""

    size_divisor = 8

    def __init__(self, n_feat: int = 64, reduction: int = 4, act: nn.Module | None = None):
        super().__init__()
        act = act if act is not None else nn.PReLU()
        self.encoder = Encoder(n_feat, reduction, act)
        self.decoder = Decoder(n_feat, reduction, act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


@MODELS.register_module()
class NoBranch(nn.Module):
    """A switched-off trunk branch: builds nothing (ignores every argument) and returns ``None``."""

    size_divisor = 1

    def __init__(self, **ignored):
        super().__init__()

    def forward(self, x: torch.Tensor) -> None:
        return None


@MODELS.register_module()
class DualBranchTrunk(nn.Module):
    """``S2FB2(orsnet(x), unet(x))``; the parent injects n_feat, num_cab, reduction and act.

    Args:
        orsnet: branch config (``ORSNetBranch`` | ``NoBranch``); gets ``num_cab`` too.
        unet: branch config (``UNetBranch`` | ``NoBranch``).
    """

    def __init__(self, n_feat: int = 64, num_cab: int = 10, reduction: int = 4,
                 act: nn.Module | None = None, orsnet: dict | None = None,
                 unet: dict | None = None):
        super().__init__()
        act = act if act is not None else nn.PReLU()
        shared = dict(n_feat=n_feat, reduction=reduction, act=act)
        self.orsnet = MODELS.build(orsnet or dict(type='ORSNetBranch'),
                                   default_args=dict(shared, num_cab=num_cab))
        self.unet = MODELS.build(unet or dict(type='UNetBranch'), default_args=shared)
        both_on = not isinstance(self.orsnet, NoBranch) and not isinstance(self.unet, NoBranch)
        self.fuse = S2FB2(n_feat, reduction) if both_on else None

    @property
    def size_divisor(self) -> int:
        return max(self.orsnet.size_divisor, self.unet.size_divisor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [out for out in (self.orsnet(x), self.unet(x)) if out is not None]
        if len(outputs) == 2:
            return self.fuse(*outputs)
        return outputs[0] if outputs else x
