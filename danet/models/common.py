"""Building blocks shared by the DANet and MPRNet generators, as the releases write them.

Parameter names follow the authors' releases (``CA.conv_du``, ``body``, ``down``/``up``) so
official checkpoints map onto these modules key for key. Kernel choices (oneDNN convolutions, the
channel attention as matrix-vector products) are the engine's (``danet.engine.rewrites``).
"""
import torch
from torch import nn


def conv(in_channels: int, out_channels: int, kernel_size: int = 3, bias: bool = False,
         stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """``nn.Conv2d`` with 'same' padding (``kernel_size // 2``); bias-free by default."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                     padding=kernel_size // 2, bias=bias, groups=groups)


class CALayer(nn.Module):
    """Squeeze-and-excitation channel attention: ``x * sigmoid(W2 relu(W1 avgpool(x))))``."""

    def __init__(self, channels: int, reduction: int = 4, bias: bool = False):
        super().__init__()
        self.conv_du = nn.Sequential(
            nn.Conv2d(channels, channels // reduction, 1, bias=bias),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels // reduction, channels, 1, bias=bias),
            nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.conv_du(x.mean((2, 3), keepdim=True))


class CAB(nn.Module):
    """Channel attention block: ``CA(conv(act(conv(x)))) + x``.

    ``act`` is passed in so that a whole sub-network can share one PReLU, as both releases do.
    """

    def __init__(self, channels: int, kernel_size: int = 3, reduction: int = 4,
                 bias: bool = False, act: nn.Module | None = None):
        super().__init__()
        self.CA = CALayer(channels, reduction, bias=bias)
        self.body = nn.Sequential(
            conv(channels, channels, kernel_size, bias=bias),
            act if act is not None else nn.PReLU(),
            conv(channels, channels, kernel_size, bias=bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.CA(self.body(x)).add_(x)  # in place: a fresh product autograd does not save


def _bilinear(scale: float) -> nn.Upsample:
    return nn.Upsample(scale_factor=scale, mode='bilinear', align_corners=False)


class DownSample(nn.Module):
    """Bilinear downsampling by ``factor`` followed by a bias-free 1x1 conv (key ``down.1``)."""

    def __init__(self, in_channels: int, out_channels: int, factor: int = 2):
        super().__init__()
        self.down = nn.Sequential(_bilinear(1.0 / factor),
                                  conv(in_channels, out_channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(x)


class UpSample(nn.Module):
    """Bilinear upsampling by ``factor`` followed by a bias-free 1x1 conv (key ``up.1``)."""

    def __init__(self, in_channels: int, out_channels: int, factor: int = 2):
        super().__init__()
        self.up = nn.Sequential(_bilinear(float(factor)),
                                conv(in_channels, out_channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(x)

