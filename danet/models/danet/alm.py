"""Associated learning module (ALM, ``STEM`` in the release) and its association masks.

An ALM maps ``(I, R_S, B_S)`` to ``n_feat`` features at the sampling-space size; the parent injects
``n_feat`` and ``scale`` (the stride that brings ``I`` down to that size).
"""
import torch
from torch import nn

from danet.models.common import conv
from danet.registry import MODELS


@MODELS.register_module()
class LearnedMask(nn.Module):
    """``sigmoid(conv3x3(R_S))``, one weight per feature channel (as released)."""

    def __init__(self, n_feat: int = 64):
        super().__init__()
        self.conv = conv(3, n_feat)

    def forward(self, rain: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(rain))


@MODELS.register_module()
class RainMagnitudeMask(nn.Module):
    """Parameter-free: channel-mean ``|R_S|`` divided by its per-image maximum (in [0, 1]).

    ``n_feat`` is accepted for interchangeability with ``LearnedMask``; the mask broadcasts.
    """

    def __init__(self, n_feat: int = 64, eps: float = 1e-6):
        super().__init__()
        self.eps = eps

    def forward(self, rain: torch.Tensor) -> torch.Tensor:
        magnitude = rain.abs().mean(1, keepdim=True)
        return magnitude / (magnitude.amax(dim=(2, 3), keepdim=True) + self.eps)


@MODELS.register_module()
class PaperALM(nn.Module):
    """``(1 + mask(R_S)) * strided_conv(I) + conv(B_S)``."""

    def __init__(self, n_feat: int = 64, scale: int = 2, mask: dict | None = None):
        super().__init__()
        self.image_conv = conv(3, n_feat, stride=scale)
        self.mask = MODELS.build(mask or dict(type='LearnedMask'), default_args=dict(n_feat=n_feat))
        self.background_conv = conv(3, n_feat)

    def forward(self, image, rain, background) -> torch.Tensor:
        image_feat = self.image_conv(image)
        return image_feat * self.mask(rain) + image_feat + self.background_conv(background)


@MODELS.register_module()
class PlainALM(nn.Module):
    """No association: ``strided_conv(I)`` only. ``mask`` is accepted and not built."""

    def __init__(self, n_feat: int = 64, scale: int = 2, mask: dict | None = None):
        super().__init__()
        self.image_conv = conv(3, n_feat, stride=scale)

    def forward(self, image, rain, background) -> torch.Tensor:
        return self.image_conv(image)


@MODELS.register_module()
class ConcatALM(nn.Module):
    """Learned fusion instead of a mask: 1x1 conv over ``cat[conv(I), conv(R_S), conv(B_S)]``.

    ``mask`` is accepted and not built.
    """

    def __init__(self, n_feat: int = 64, scale: int = 2, mask: dict | None = None):
        super().__init__()
        self.image_conv = conv(3, n_feat, stride=scale)
        self.rain_conv = conv(3, n_feat)
        self.background_conv = conv(3, n_feat)
        self.fuse = conv(3 * n_feat, n_feat, 1)

    def forward(self, image, rain, background) -> torch.Tensor:
        features = [self.image_conv(image), self.rain_conv(rain), self.background_conv(background)]
        return self.fuse(torch.cat(features, 1))
