"""Building blocks shared by the DANet and MPRNet generators.

Parameter names follow the authors' releases (``CA.conv_du``, ``body``, ``down``/``up``) so
official checkpoints map onto these modules key for key.

Convolution kernels: PyTorch (2.x, CPU) sends a convolution of one image to its generic
``_slow_conv2d`` (im2col + GEMM) instead of oneDNN when it looks small to its heuristic: every 1×1
convolution on one thread, and 3×3 ones on maps under ~20k values. In channels-last that also
breaks oneDNN's blocked layout between layers. ``OneDNNConv2d`` (what ``conv`` builds) calls
oneDNN directly for channels-last CPU fp32 input (1×1 at 160×240: 1.25× faster on one thread);
``CALayer`` runs its two 1×1 "convolutions" of pooled 1×1 maps as matrix-vector products
(``F.linear`` on the same weights). No channels-last DANet or MPRNet forward takes the slow
kernel (``tests/test_models/test_conv_kernels.py``); the plain NCHW path is left to PyTorch, and
so is ``torch.compile`` (inductor chooses its own kernels).
"""
import torch
import torch.nn.functional as F
from torch import nn


def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           stride=1, padding=0, dilation=1, groups: int = 1) -> torch.Tensor:
    """``F.conv2d`` (zero padding), run on oneDNN directly for channels-last CPU fp32 input."""
    # under torch.compile (checked first: dynamo cannot trace the checks below) inductor
    # picks its own kernels
    if (not torch.compiler.is_compiling() and x.device.type == 'cpu'
            and x.dtype == torch.float32 and x.ndim == 4
            and torch.backends.mkldnn.is_available() and not torch.is_autocast_enabled('cpu')
            and not torch.jit.is_tracing()
            and x.is_contiguous(memory_format=torch.channels_last)):
        pair = torch.nn.modules.utils._pair
        return torch.mkldnn_convolution(x, weight, bias, pair(padding), pair(stride),
                                        pair(dilation), groups)
    return F.conv2d(x, weight, bias, stride, padding, dilation, groups)


class OneDNNConv2d(nn.Conv2d):
    """``nn.Conv2d`` (same parameters and keys) that runs oneDNN on channels-last CPU input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.padding_mode != 'zeros':
            return super().forward(x)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)


def conv(in_channels: int, out_channels: int, kernel_size: int = 3, bias: bool = False,
         stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """``OneDNNConv2d`` with 'same' padding (``kernel_size // 2``); bias-free by default."""
    return OneDNNConv2d(in_channels, out_channels, kernel_size, stride=stride,
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
        squeeze, relu, excite, sigmoid = self.conv_du
        pooled = x.mean((2, 3))
        hidden = relu(F.linear(pooled, squeeze.weight.flatten(1), squeeze.bias))
        weights = sigmoid(F.linear(hidden, excite.weight.flatten(1), excite.bias))
        return x * weights[:, :, None, None]


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

