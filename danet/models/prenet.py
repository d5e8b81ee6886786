"""The PReNet family (Ren et al., CVPR 2019): progressive networks that unfold one shallow
ResNet stage ``stages`` times, feeding each stage the rainy input and the previous estimate.

One generator, ``ProgressiveDerainNet``, with two swappable components:
- ``recurrent``: the recurrent unit across stages (``ConvLSTMUnit``, ``ConvGRUUnit``, or ``None``);
- ``resblocks``: the stage's ResNet (``ResBlockStack``: five blocks, or one block applied five
  times with ``shared=True``, the "_r" intra-stage recursion).
The registered names PRN, PReNet, PRN_r, PReNet_r, PReNet_GRU, PReNet_x, PReNet_LSTM and
PReNet_real fix these choices to the authors' classes (``networks.py``/``generator.py``) with the
same parameter counts; ``stages`` (T) stays an argument. ``forward`` returns the stage outputs,
final first, then stages 1..T-1.
"""
import torch
import torch.nn.functional as F
from torch import nn

from danet.models.base import Generator
from danet.models.common import OneDNNConv2d, conv2d
from danet.registry import MODELS


def _conv_act(in_channels: int, out_channels: int, act: nn.Module | None) -> nn.Sequential:
    """3×3 conv with bias (+ activation): keys ``0.weight``/``0.bias`` as the authors'."""
    layers = [OneDNNConv2d(in_channels, out_channels, 3, 1, 1)]
    return nn.Sequential(*layers, act) if act is not None else nn.Sequential(*layers)


def gate_convolution(x: torch.Tensor, h: torch.Tensor | None, gates,
                     scales: tuple[float, ...] | None = None) -> torch.Tensor:
    """Every gate's 3×3 convolution of ``cat(x, h)`` as one convolution (the gates' weights
    concatenated along the output channels, in the order given, each times its ``scales``
    entry). ``h=None`` is the zero state: only the ``x`` half of each kernel runs (the ``h``
    half would add zeros)."""
    scales = scales or (1,) * len(gates)
    weight = torch.cat([g[0].weight * s if s != 1 else g[0].weight
                        for g, s in zip(gates, scales, strict=True)])
    bias = torch.cat([g[0].bias * s if s != 1 else g[0].bias
                      for g, s in zip(gates, scales, strict=True)])
    if h is None:
        return conv2d(x, weight[:, :x.shape[1]].contiguous(), bias, padding=1)
    return conv2d(torch.cat((x, h), 1), weight, bias, padding=1)


def _tanh(x: torch.Tensor, inplace: bool) -> torch.Tensor:
    """``tanh(x)`` as ``2·sigmoid(2x) − 1`` (within 2.4e-7 of it); a new tensor either way."""
    if inplace:
        return torch.mul(x, 2).sigmoid_().mul_(2).sub_(1)
    return 2 * torch.sigmoid(2 * x) - 1


def _output_conv(conv: nn.Conv2d, x: torch.Tensor, width: int = 16) -> torch.Tensor:
    """``conv(x)`` for a conv with few output channels. Without autograd on channels-last input
    it runs with zero filters added up to ``width`` outputs and keeps the first ones: oneDNN
    takes about twice as long for 3 outputs as for 16 (docs/inference.md)."""
    extra = width - conv.out_channels
    if torch.is_grad_enabled() or extra <= 0 or not x.is_contiguous(
            memory_format=torch.channels_last):
        return conv(x)
    weight = F.pad(conv.weight, (0, 0, 0, 0, 0, 0, 0, extra))
    bias = F.pad(conv.bias, (0, extra))
    return conv2d(x, weight, bias, padding=1)[:, :conv.out_channels]


@MODELS.register_module()
class ConvLSTMUnit(nn.Module):
    """Convolutional LSTM over stages: gates ``conv_i/f/g/o`` on ``cat(x, h)``.

    The four gates run as one convolution (``gate_convolution``); the state starts as ``None``
    (zeros), so the first stage skips the ``h`` half of the kernels and the ``f * c`` term.
    Without autograd the activations and the state update run in place.
    """

    def __init__(self, channels: int = 32):
        super().__init__()
        self.channels = channels
        self.conv_i = _conv_act(2 * channels, channels, nn.Sigmoid())
        self.conv_f = _conv_act(2 * channels, channels, nn.Sigmoid())
        self.conv_g = _conv_act(2 * channels, channels, nn.Tanh())
        self.conv_o = _conv_act(2 * channels, channels, nn.Sigmoid())

    def init_state(self, x: torch.Tensor) -> None:
        return None

    def forward(self, x: torch.Tensor, state: tuple | None) -> tuple[torch.Tensor, tuple]:
        h, c = state if state is not None else (None, None)
        n, inplace = self.channels, not torch.is_grad_enabled()
        # one sigmoid over all four gates: tanh(g) = 2·sigmoid(2g) − 1, the 2g from doubled
        # conv_g weights (exact), as PyTorch's tanh is several times slower than its sigmoid
        gates = gate_convolution(x, h, (self.conv_i, self.conv_f, self.conv_o, self.conv_g),
                                 scales=(1, 1, 1, 2))
        i, f, o, g = (gates.sigmoid_() if inplace else gates.sigmoid()).split(n, 1)
        if inplace:
            g = g.mul_(2).sub_(1)
            c = i.mul(g) if c is None else c.mul_(f).addcmul_(i, g)
            h = _tanh(c, inplace).mul_(o)
        else:
            g = 2 * g - 1
            c = i * g if c is None else f * c + i * g
            h = o * _tanh(c, inplace)
        return h, (h, c)


@MODELS.register_module()
class ConvGRUUnit(nn.Module):
    """Convolutional GRU over stages: update ``conv_z``, reset ``conv_b``, candidate ``conv_g``.

    ``conv_z`` and ``conv_b`` run as one convolution (``gate_convolution``); the state starts as
    ``None`` (zeros): the first stage computes ``z * candidate`` from ``x`` alone.
    """

    def __init__(self, channels: int = 32):
        super().__init__()
        self.channels = channels
        self.conv_z = _conv_act(2 * channels, channels, nn.Sigmoid())
        self.conv_b = _conv_act(2 * channels, channels, nn.Sigmoid())
        self.conv_g = _conv_act(2 * channels, channels, nn.Tanh())

    def init_state(self, x: torch.Tensor) -> None:
        return None

    def forward(self, x: torch.Tensor, h: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        n = self.channels
        if h is None:  # the reset gate multiplies zeros: z and the candidate see x alone
            z = gate_convolution(x, None, (self.conv_z,)).sigmoid()
            g = self.conv_g[0]
            h = z * conv2d(x, g.weight[:, n:].contiguous(), g.bias, padding=1).tanh()
            return h, h
        z, b = gate_convolution(x, h, (self.conv_z, self.conv_b)).sigmoid().split(n, 1)
        candidate = self.conv_g(torch.cat((b * h, x), 1))
        h = (1 - z) * h + z * candidate
        return h, h


@MODELS.register_module()
class ResBlockStack(nn.Module):
    """``num_blocks`` residual blocks ``x = relu(relu(conv(relu(conv(x)))) + x)``.

    ``shared=True`` applies one block (key ``res_conv1``) ``num_blocks`` times (PRN_r/PReNet_r);
    otherwise blocks ``res_conv1..N`` each have their own weights.
    """

    def __init__(self, channels: int = 32, num_blocks: int = 5, shared: bool = False):
        super().__init__()
        self.num_blocks = num_blocks
        self.shared = shared
        for k in range(1 if shared else num_blocks):
            block = nn.Sequential(OneDNNConv2d(channels, channels, 3, 1, 1), nn.ReLU(),
                                  OneDNNConv2d(channels, channels, 3, 1, 1), nn.ReLU())
            self.add_module(f'res_conv{k + 1}', block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inplace = not torch.is_grad_enabled()
        for k in range(self.num_blocks):
            block = getattr(self, 'res_conv1' if self.shared else f'res_conv{k + 1}')
            if inplace:  # fresh conv outputs: activations and the skip add in place
                y = block[0](x).relu_()
                x = block[2](y).relu_().add_(x).relu_()
            else:
                x = F.relu(block(x) + x)
        return x


_LSTM = dict(type='ConvLSTMUnit')  # defaults, copied before use
_STACK = dict(type='ResBlockStack')


@MODELS.register_module()
class ProgressiveDerainNet(Generator):
    """A PReNet-style progressive network.

    Args:
        stages: number of stages T.
        recurrent: recurrent-unit config (``ConvLSTMUnit``/``ConvGRUUnit``) or ``None`` (PRN).
        resblocks: the stage ResNet config (``ResBlockStack``).
        concat_input: stage input is ``cat(rainy, previous estimate)`` (6 channels); otherwise
            the previous estimate alone (3 channels, PReNet_x).
        input_residual: each stage predicts ``rainy + conv(features)`` (PRN/PReNet) instead of
            the image directly (the ablation and real-photo classes).
        recurrent_last: the recurrent unit follows the ResNet (``generator.py``'s
            ``Generator_lstm``) instead of preceding it.
    """

    size_divisor = 1

    def __init__(self, stages: int = 6, recurrent: dict | None = _LSTM,
                 resblocks: dict = _STACK, channels: int = 32,
                 concat_input: bool = True, input_residual: bool = True,
                 recurrent_last: bool = False):
        super().__init__()
        if stages < 1:
            raise ValueError(f'{type(self).__name__}: stages must be >= 1, got {stages}')
        self.stages = stages
        self.concat_input = concat_input
        self.input_residual = input_residual
        self.recurrent_last = recurrent_last
        self.conv0 = _conv_act(6 if concat_input else 3, channels, nn.ReLU(inplace=True))
        self.resblocks = MODELS.build(dict(resblocks, channels=channels))
        self.recurrent = (None if recurrent is None
                          else MODELS.build(dict(recurrent, channels=channels)))
        self.conv = _conv_act(channels, 3, None)

    def forward(self, rainy: torch.Tensor) -> list[torch.Tensor]:
        x = rainy
        state = None if self.recurrent is None else self.recurrent.init_state(rainy)
        outputs = []
        for _ in range(self.stages):
            x = self.conv0(torch.cat((rainy, x), 1) if self.concat_input else x)
            if self.recurrent is not None and not self.recurrent_last:
                x, state = self.recurrent(x, state)
            x = self.resblocks(x)
            if self.recurrent is not None and self.recurrent_last:
                x, state = self.recurrent(x, state)
            x = _output_conv(self.conv[0], x)
            if self.input_residual:
                x = x + rainy if torch.is_grad_enabled() else x.add_(rainy)
            outputs.append(x)
        return [outputs[-1], *outputs[:-1]]


_SHARED = dict(type='ResBlockStack', shared=True)
# registered name -> fixed arguments of the authors' class
VARIANTS = {
    'PReNet': dict(),
    'PRN': dict(recurrent=None),
    'PReNet_r': dict(resblocks=_SHARED),
    'PRN_r': dict(recurrent=None, resblocks=_SHARED),
    'PReNet_LSTM': dict(input_residual=False),
    'PReNet_GRU': dict(recurrent=dict(type='ConvGRUUnit'), input_residual=False),
    'PReNet_x': dict(concat_input=False, input_residual=False),
    'PReNet_real': dict(input_residual=False, recurrent_last=True),
}


def official_keys(state_dict: dict) -> dict:
    """Official PReNet keys -> ours: gates ``conv_[ifgozb]`` go to ``recurrent``, ``res_convK``
    to ``resblocks``."""
    def ours(key: str) -> str:
        head = key.split('.', 1)[0]
        if head.startswith('res_conv'):
            return 'resblocks.' + key
        if head in ('conv_i', 'conv_f', 'conv_g', 'conv_o', 'conv_z', 'conv_b'):
            return 'recurrent.' + key
        return key
    return {ours(k): v for k, v in state_dict.items()}


def _variant(name: str, fixed: dict) -> type:
    def __init__(self, stages: int = 6, **kwargs):
        ProgressiveDerainNet.__init__(self, stages=stages, **{**fixed, **kwargs})

    doc = f'``ProgressiveDerainNet`` with the authors\' ``{name}`` choices: {fixed or "defaults"}.'
    return type(name, (ProgressiveDerainNet,), dict(__init__=__init__, __doc__=doc,
                                                    official_keys=staticmethod(official_keys)))


for _name, _fixed in VARIANTS.items():
    MODELS.register_module(name=_name, module=_variant(_name, _fixed))
