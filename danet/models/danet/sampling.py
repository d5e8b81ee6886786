"""Sampling components: map the rainy image to shallow features and an image in the sampling space.

Every variant returns ``(features n_feat x h x w, image 3 x h x w)`` with ``h = H / scale``; the
image is what the rain prediction is subtracted from (``B_S = I_S - R_S``).
"""
import torch
import torch.nn.functional as F
from torch import nn

from danet.models.common import CAB, conv
from danet.registry import MODELS


def _shallow(in_channels: int, n_feat: int, reduction: int, act: nn.Module) -> nn.Sequential:
    return nn.Sequential(conv(in_channels, n_feat), CAB(n_feat, 3, reduction, act=act))


@MODELS.register_module()
class PaperSampling(nn.Module):
    """Bilinear x1/2 image and a quadrant channel-stack, each conv+CAB, fused by a 3x3 conv."""

    scale = 2

    def __init__(self, n_feat: int = 64, reduction: int = 4, act: nn.Module | None = None):
        super().__init__()
        act = act if act is not None else nn.PReLU()
        self.shallow_feat1 = _shallow(3, n_feat, reduction, act)
        self.shallow_feat2 = _shallow(12, n_feat, reduction, act)
        self.fuse_conv = conv(2 * n_feat, n_feat)

    @staticmethod
    def stack(x: torch.Tensor) -> torch.Tensor:
        """Top-left, top-right, bottom-left, bottom-right quadrants stacked on channels."""
        h, w = x.shape[-2] // 2, x.shape[-1] // 2
        top, bottom = x[..., :h, :], x[..., h:, :]
        return torch.cat([top[..., :w], top[..., w:], bottom[..., :w], bottom[..., w:]], 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        small = F.interpolate(x, scale_factor=0.5, mode='bilinear', align_corners=False)
        features = torch.cat([self.shallow_feat1(small), self.shallow_feat2(self.stack(x))], 1)
        return self.fuse_conv(features), small


@MODELS.register_module()
class PixelUnshuffleSampling(PaperSampling):
    """As ``PaperSampling`` but the 12-channel stack is a x2 pixel-unshuffle (local 2x2 blocks)."""

    @staticmethod
    def stack(x: torch.Tensor) -> torch.Tensor:
        return F.pixel_unshuffle(x, 2)


@MODELS.register_module()
class NoSampling(nn.Module):
    """No sampling space: conv+CAB on the full-res image, which is also the returned image."""

    scale = 1

    def __init__(self, n_feat: int = 64, reduction: int = 4, act: nn.Module | None = None):
        super().__init__()
        act = act if act is not None else nn.PReLU()
        self.shallow_feat1 = _shallow(3, n_feat, reduction, act)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.shallow_feat1(x), x
