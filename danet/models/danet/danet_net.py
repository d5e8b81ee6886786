"""DANet (Jiang et al., IJCAI 2022) assembled from swappable components.

``dsnet`` predicts the rain layer ``R_S`` in the sampling space and ``B_S = I_S - R_S``; ``ssnet``
associates ``R_S`` with the rainy image (ALM), runs its own trunk and reconstructs the full-res
image. Each sub-network creates ONE PReLU and injects it into all its components, as released.
"""
import torch
from torch import nn

from danet.models.base import Generator
from danet.models.common import conv
from danet.models.danet.official import from_official
from danet.registry import MODELS


class RainPredictor(nn.Module):
    """DSNet: ``sampling -> trunk -> conv to 3`` gives ``R_S``; returns ``(R_S, I_S - R_S)``."""

    def __init__(self, n_feat: int, num_cab: int, reduction: int, sampling: dict, trunk: dict):
        super().__init__()
        act = nn.PReLU()
        shared = dict(n_feat=n_feat, reduction=reduction, act=act)
        self.sampling = MODELS.build(sampling, default_args=shared)
        self.trunk = MODELS.build(trunk, default_args=dict(shared, num_cab=num_cab))
        self.tail = conv(n_feat, 3)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features, image_s = self.sampling(x)
        rain_s = self.tail(self.trunk(features))
        return rain_s, image_s - rain_s


class BackgroundReconstructor(nn.Module):
    """SSNet: ``ALM(I, R_S, B_S) -> trunk -> reconstruction`` to the full-resolution image."""

    def __init__(self, n_feat: int, num_cab: int, reduction: int, scale: int, alm: dict,
                 trunk: dict, reconstruction: dict):
        super().__init__()
        act = nn.PReLU()
        self.alm = MODELS.build(alm, default_args=dict(n_feat=n_feat, scale=scale))
        self.trunk = MODELS.build(trunk, default_args=dict(
            n_feat=n_feat, num_cab=num_cab, reduction=reduction, act=act))
        self.reconstruction = MODELS.build(reconstruction,
                                           default_args=dict(n_feat=n_feat, scale=scale))

    def forward(self, x, rain_s, background_s) -> torch.Tensor:
        features = self.trunk(self.alm(x, rain_s, background_s))
        return self.reconstruction(features, background_s)


@MODELS.register_module()
class DANet(Generator):
    """The DANet generator; ``forward(x)`` returns ``[final B x 3 x H x W, B_S]``.

    Defaults build the released network (2,943,138 parameters). Components (config dicts):

    Args:
        n_feat, num_cab, reduction: feature width, CABs per ORSNet, channel-attention reduction.
        sampling: ``PaperSampling`` | ``PixelUnshuffleSampling`` | ``NoSampling``.
        rain_trunk / texture_trunk: DSNet's / SSNet's ``DualBranchTrunk`` (its ``orsnet`` and
            ``unet`` branches can each be ``NoBranch``).
        alm: ``PaperALM`` | ``PlainALM`` | ``ConcatALM``; ``PaperALM.mask``: ``LearnedMask`` |
            ``RainMagnitudeMask``.
        reconstruction: ``PixelShuffleReconstruction`` | ``BilinearReconstruction`` |
            ``TransposedConvReconstruction``; its ``skip``: ``BilinearBackgroundSkip`` |
            ``NoBackgroundSkip``.
    """

    def __init__(self, n_feat: int = 64, num_cab: int = 10, reduction: int = 4,
                 sampling: dict | None = None, rain_trunk: dict | None = None,
                 alm: dict | None = None, texture_trunk: dict | None = None,
                 reconstruction: dict | None = None):
        super().__init__()
        self.dsnet = RainPredictor(n_feat, num_cab, reduction,
                                   sampling or dict(type='PaperSampling'),
                                   rain_trunk or dict(type='DualBranchTrunk'))
        self.ssnet = BackgroundReconstructor(
            n_feat, num_cab, reduction, self.dsnet.sampling.scale,
            alm or dict(type='PaperALM'), texture_trunk or dict(type='DualBranchTrunk'),
            reconstruction or dict(type='PixelShuffleReconstruction'))

    official_keys = staticmethod(from_official)  # kuijiang94/DANet's release -> our keys

    @property
    def size_divisor(self) -> int:
        """Input sides must be multiples of this (16 at defaults, 8 without sampling)."""
        trunks = max(self.dsnet.trunk.size_divisor, self.ssnet.trunk.size_divisor)
        return self.dsnet.sampling.scale * trunks

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        rain_s, background_s = self.dsnet(x)
        return [self.ssnet(x, rain_s, background_s), background_s]
