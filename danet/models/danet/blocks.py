"""DANet's building blocks: depthwise-separable convs, S2FB fusions, the light CAB, U-trunk levels.

Attribute names follow the authors' ``DANet.py`` (``DSC``, ``CA_fea``, ``S2FB2``, ``CAB1``) so that
official checkpoints map onto them by prefix only (see ``official.py``).
"""
import torch
from torch import nn

from danet.models.common import CAB, CALayer, conv


class DSC(nn.Module):
    """Depthwise 3x3 then pointwise 1x1 convolution, both biased (as released)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.depth_conv = conv(in_channels, in_channels, 3, bias=True, groups=in_channels)
        self.point_conv = conv(in_channels, out_channels, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.point_conv(self.depth_conv(x))


class S2FB2(nn.Module):
    """Two-input fusion: ``CA(DSC(cat[x1, x2])) + x1``."""

    def __init__(self, n_feat: int, reduction: int = 4):
        super().__init__()
        self.DSC = DSC(2 * n_feat, n_feat)
        self.CA_fea = CALayer(n_feat, reduction)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return self.CA_fea(self.DSC(torch.cat([x1, x2], 1))).add_(x1)


class S2FBp(nn.Module):
    """Progressive four-input fusion: (x3, x4), then x2, then x1; ``CA(c) + c``."""

    def __init__(self, n_feat: int, reduction: int = 4):
        super().__init__()
        self.DSC1 = DSC(2 * n_feat, n_feat)
        self.DSC2 = DSC(2 * n_feat, n_feat)
        self.DSC3 = DSC(2 * n_feat, n_feat)
        self.CA_fea = CALayer(n_feat, reduction)

    def forward(self, x1, x2, x3, x4) -> torch.Tensor:
        fused = self.DSC1(torch.cat([x3, x4], 1))
        fused = self.DSC2(torch.cat([x2, fused], 1))
        fused = self.DSC3(torch.cat([x1, fused], 1))
        return self.CA_fea(fused).add_(fused)


class CABdsc(nn.Module):
    """Light CAB: ``r = CA(DSC(act(DSC(x))))``, then ``S2FB2(r, x)``; no plain identity skip."""

    def __init__(self, n_feat: int, reduction: int, act: nn.Module):
        super().__init__()
        self.CA = CALayer(n_feat, reduction)
        self.body = nn.Sequential(DSC(n_feat, n_feat), act, DSC(n_feat, n_feat))
        self.S2FB2 = S2FB2(n_feat, reduction)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.S2FB2(self.CA(self.body(x)), x)


class EncoderLevel(nn.Module):
    """One encoder level: ``S2FB2(x, CABdsc(x))``."""

    def __init__(self, n_feat: int, reduction: int, act: nn.Module):
        super().__init__()
        self.CAB1 = CABdsc(n_feat, reduction, act)
        self.S2FB2 = S2FB2(n_feat, reduction)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.S2FB2(x, self.CAB1(x))


class DecoderLevel(nn.Module):
    """One decoder level: ``d = S2FBp(x, s1, s2, s3)``, then ``S2FB2(d, CAB(d))``."""

    def __init__(self, n_feat: int, reduction: int, act: nn.Module):
        super().__init__()
        self.S2FB0 = S2FBp(n_feat, reduction)
        self.CAB1 = CAB(n_feat, 3, reduction, act=act)
        self.S2FB2 = S2FB2(n_feat, reduction)

    def forward(self, x, s1, s2, s3) -> torch.Tensor:
        fused = self.S2FB0(x, s1, s2, s3)
        return self.S2FB2(fused, self.CAB1(fused))
