"""Rewrites the engine applies when it prepares a model: the speed tricks model files leave out.

``danet/models`` state the networks as their papers do. The engine swaps the classes of matching
submodules, in place, for subclasses with the same parameters and keys whose ``forward`` is
faster on CPU and equal to the plain one to float rounding (golden-tested on both,
``tests/test_models/test_prenet.py``, ``test_danet.py``, ``test_conv_kernels.py``):

- ``rewrite_kernels`` (inference, and training in channels-last: ``DerainRunner.wrap_model``):
  every plain zero-padded ``nn.Conv2d`` becomes ``OneDNNConv2d`` and every ``CALayer``
  ``LinearCALayer``. PyTorch (2.x, CPU) sends a convolution of one image to its generic
  ``_slow_conv2d`` (im2col + GEMM) instead of oneDNN when it looks small to its heuristic: every
  1×1 convolution on one thread, and 3×3 ones on maps under ~20k values; in channels-last that
  also breaks oneDNN's blocked layout between layers. ``OneDNNConv2d`` calls oneDNN directly for
  channels-last CPU fp32 input (1×1 at 160×240: 1.25× faster on one thread); ``LinearCALayer``
  runs the two 1×1 "convolutions" of pooled 1×1 maps as matrix-vector products. Both are exact
  under autograd. The plain NCHW path is left to PyTorch, and so is ``torch.compile``.
- ``rewrite_for_inference`` (``InferenceEngine``): the kernels, and the PReNet family's fast
  paths below, which run only without autograd (with autograd on, training a model once
  prepared, they call the plain ``forward``).

The PReNet family (measured in ``docs/inference.md``, "The PReNet family against networks.py"):
- ConvLSTM/ConvGRU gates as **one convolution** (weights concatenated), one sigmoid for all four
  LSTM gates with ``tanh(g) = 2·sigmoid(2g) − 1`` from doubled ``conv_g`` weights (exact);
- the **zero first state** skips the ``h`` half of the gate kernels and the ``f·c`` term;
- activations, the ResBlock skip adds and the LSTM state update **in place**;
- convolutions run on **oneDNN directly** for channels-last CPU fp32 input (``OneDNNConv2d``);
- the 32→3 output convolution **padded to 16 filters** (oneDNN takes half the time) and cut.
"""
import torch
import torch.nn.functional as F
from torch import nn

from danet.models.common import CALayer
from danet.models.prenet import ConvGRUUnit, ConvLSTMUnit, ProgressiveDerainNet, ResBlockStack


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


class LinearCALayer(CALayer):
    """``CALayer`` with its two 1×1 convolutions of the pooled 1×1 map as ``F.linear`` on the
    same weights (matrix-vector products instead of PyTorch's slow small-convolution kernel)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        squeeze, relu, excite, sigmoid = self.conv_du
        pooled = x.mean((2, 3))
        hidden = relu(F.linear(pooled, squeeze.weight.flatten(1), squeeze.bias))
        weights = sigmoid(F.linear(hidden, excite.weight.flatten(1), excite.bias))
        return x * weights[:, :, None, None]


def gate_convolution(x: torch.Tensor, h: torch.Tensor | None, gates,
                     scales: tuple[float, ...] | None = None) -> torch.Tensor:
    """Every gate's 3×3 convolution of ``cat(x, h)`` as one convolution (the gates' weights
    concatenated along the output channels, in the order given, each times its ``scales``
    entry). ``h=None`` is the zero state: only the ``x`` half of each kernel runs."""
    scales = scales or (1,) * len(gates)
    weight = torch.cat([g[0].weight * s if s != 1 else g[0].weight
                        for g, s in zip(gates, scales, strict=True)])
    bias = torch.cat([g[0].bias * s if s != 1 else g[0].bias
                      for g, s in zip(gates, scales, strict=True)])
    if h is None:
        return conv2d(x, weight[:, :x.shape[1]].contiguous(), bias, padding=1)
    return conv2d(torch.cat((x, h), 1), weight, bias, padding=1)


def _tanh_(x: torch.Tensor) -> torch.Tensor:
    """``tanh(x)`` as ``2·sigmoid(2x) − 1`` (within 2.4e-7 of it), a new tensor."""
    return torch.mul(x, 2).sigmoid_().mul_(2).sub_(1)


class FusedConvLSTMUnit(ConvLSTMUnit):
    """``ConvLSTMUnit`` with fused gates, a ``None`` zero state and in-place updates."""

    def init_state(self, x: torch.Tensor) -> None:
        return None if not torch.is_grad_enabled() else super().init_state(x)

    def forward(self, x, state):
        if torch.is_grad_enabled():
            return super().forward(x, state)
        h, c = state if state is not None else (None, None)
        gates = gate_convolution(x, h, (self.conv_i, self.conv_f, self.conv_o, self.conv_g),
                                 scales=(1, 1, 1, 2))
        i, f, o, g = gates.sigmoid_().split(self.channels, 1)
        g = g.mul_(2).sub_(1)
        c = i.mul(g) if c is None else c.mul_(f).addcmul_(i, g)
        h = _tanh_(c).mul_(o)
        return h, (h, c)


class FusedConvGRUUnit(ConvGRUUnit):
    """``ConvGRUUnit`` with ``z`` and ``b`` as one convolution and a ``None`` zero state."""

    def init_state(self, x: torch.Tensor) -> None:
        return None if not torch.is_grad_enabled() else super().init_state(x)

    def forward(self, x, h):
        if torch.is_grad_enabled():
            return super().forward(x, h)
        n = self.channels
        if h is None:  # the reset gate multiplies zeros: z and the candidate see x alone
            z = gate_convolution(x, None, (self.conv_z,)).sigmoid_()
            g = self.conv_g[0]
            h = z.mul_(conv2d(x, g.weight[:, n:].contiguous(), g.bias, padding=1).tanh_())
            return h, h
        z, b = gate_convolution(x, h, (self.conv_z, self.conv_b)).sigmoid_().split(n, 1)
        candidate = self.conv_g(torch.cat((b * h, x), 1))
        h = (1 - z) * h + z * candidate
        return h, h


class InplaceResBlockStack(ResBlockStack):
    """``ResBlockStack`` with its activations and skip adds in place."""

    def forward(self, x):
        if torch.is_grad_enabled():
            return super().forward(x)
        for block in self.blocks():
            y = block[0](x).relu_()
            x = block[2](y).relu_().add_(x).relu_()
        return x


class PaddedOutputConv(OneDNNConv2d):
    """A convolution with few outputs run with zero filters added up to ``width`` outputs on
    channels-last input, the first ones kept: oneDNN takes about twice as long for 3 outputs as
    for 16."""

    width = 16

    def forward(self, x):
        extra = self.width - self.out_channels
        if torch.is_grad_enabled() or extra <= 0 or not x.is_contiguous(
                memory_format=torch.channels_last):
            return super().forward(x)
        weight = F.pad(self.weight, (0, 0, 0, 0, 0, 0, 0, extra))
        bias = F.pad(self.bias, (0, extra))
        return conv2d(x, weight, bias, self.stride, self.padding)[:, :self.out_channels]


# plain class -> its fast class (exact type match: a plug-in's subclass keeps its own forward)
KERNEL_REWRITES: dict[type, type] = {nn.Conv2d: OneDNNConv2d, CALayer: LinearCALayer}
MODULE_REWRITES: dict[type, type] = {ConvLSTMUnit: FusedConvLSTMUnit,
                                     ConvGRUUnit: FusedConvGRUUnit,
                                     ResBlockStack: InplaceResBlockStack}


def rewrite_kernels(generator: nn.Module) -> nn.Module:
    """Swap, in place, every plain zero-padded ``nn.Conv2d`` for ``OneDNNConv2d`` and every
    ``CALayer`` for ``LinearCALayer`` (exact under autograd). Returns ``generator``."""
    for module in generator.modules():
        fast = KERNEL_REWRITES.get(type(module))
        if fast is not None and getattr(module, 'padding_mode', 'zeros') == 'zeros':
            module.__class__ = fast
    return generator


def rewrite_for_inference(generator: nn.Module) -> nn.Module:
    """``rewrite_kernels``, then every submodule named in ``MODULE_REWRITES`` swapped for its
    fast class and the output convolution of each ``ProgressiveDerainNet`` for
    ``PaddedOutputConv``. Returns ``generator``."""
    rewrite_kernels(generator)
    for module in generator.modules():
        fast = MODULE_REWRITES.get(type(module))
        if fast is not None:
            module.__class__ = fast
        if isinstance(module, ProgressiveDerainNet) and type(module.conv[0]) is OneDNNConv2d:
            module.conv[0].__class__ = PaddedOutputConv
    return generator
