"""SR reconstruction: features at the sampling-space size -> full-resolution image.

Each variant predicts a residual at ``scale`` x the feature size and hands it with ``B_S`` to its
``skip`` component. The parent injects ``n_feat`` and ``scale``.
"""
import torch
import torch.nn.functional as F
from torch import nn

from danet.models.common import conv
from danet.registry import MODELS


@MODELS.register_module()
class BilinearBackgroundSkip(nn.Module):
    """``residual + bilinear_x{scale}(B_S)``."""

    def __init__(self, scale: int = 2):
        super().__init__()
        self.scale = scale

    def forward(self, residual: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
        if self.scale != 1:
            background = F.interpolate(background, scale_factor=self.scale, mode='bilinear',
                                       align_corners=False)
        return residual + background


@MODELS.register_module()
class NoBackgroundSkip(nn.Module):
    """The residual alone is the output image."""

    def __init__(self, scale: int = 2):
        super().__init__()

    def forward(self, residual: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
        return residual


class _Reconstruction(nn.Module):
    """Shared wiring: ``skip(tail(upsample(features)), B_S)``; subclasses set ``upsample``."""

    def __init__(self, n_feat: int, scale: int, skip: dict | None):
        super().__init__()
        self.scale = scale
        self.skip = MODELS.build(skip or dict(type='BilinearBackgroundSkip'),
                                 default_args=dict(scale=scale))

    def upsample(self, features: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, features: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
        return self.skip(self.tail(self.upsample(features)), background)


@MODELS.register_module()
class PixelShuffleReconstruction(_Reconstruction):
    """Released: conv ``n_feat -> n_feat/2 * scale^2``, pixel shuffle, conv ``n_feat/2 -> 3``."""

    def __init__(self, n_feat: int = 64, scale: int = 2, skip: dict | None = None):
        super().__init__(n_feat, scale, skip)
        self.deep_conv = conv(n_feat, n_feat // 2 * scale ** 2)
        self.tail = conv(n_feat // 2, 3)

    def upsample(self, features: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.deep_conv(features), self.scale)


@MODELS.register_module()
class BilinearReconstruction(_Reconstruction):
    """Bilinear x``scale`` of the features, then conv ``n_feat -> 3``."""

    def __init__(self, n_feat: int = 64, scale: int = 2, skip: dict | None = None):
        super().__init__(n_feat, scale, skip)
        self.tail = conv(n_feat, 3)

    def upsample(self, features: torch.Tensor) -> torch.Tensor:
        if self.scale == 1:
            return features
        return F.interpolate(features, scale_factor=self.scale, mode='bilinear',
                             align_corners=False)


@MODELS.register_module()
class TransposedConvReconstruction(_Reconstruction):
    """Transposed conv (kernel ``scale + 2``, stride ``scale``) to ``n_feat/2``, conv to 3."""

    def __init__(self, n_feat: int = 64, scale: int = 2, skip: dict | None = None):
        super().__init__(n_feat, scale, skip)
        self.deconv = nn.ConvTranspose2d(n_feat, n_feat // 2, scale + 2, stride=scale, padding=1,
                                         bias=False)
        self.tail = conv(n_feat // 2, 3)

    def upsample(self, features: torch.Tensor) -> torch.Tensor:
        return self.deconv(features)
