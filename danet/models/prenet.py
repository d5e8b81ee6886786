"""The PReNet family (Ren et al., CVPR 2019): progressive networks that unfold one shallow
ResNet stage ``stages`` times, feeding each stage the rainy input and the previous estimate.

One generator, ``ProgressiveDerainNet``, with two swappable components:
- ``recurrent``: the recurrent unit across stages (``ConvLSTMUnit``, ``ConvGRUUnit``, or ``None``);
- ``resblocks``: the stage's ResNet (``ResBlockStack``: five blocks, or one block applied five
  times with ``shared=True``, the "_r" intra-stage recursion).
The registered names PRN, PReNet, PRN_r, PReNet_r, PReNet_GRU, PReNet_x, PReNet_LSTM and
PReNet_real fix these choices to the authors' classes (``networks.py``/``generator.py``) with the
same parameter counts; ``stages`` (T) stays an argument. ``forward`` returns the stage outputs,
final first, then stages 1..T-1. The module reads like the paper; the inference engine's
rewrite (``danet.engine.rewrites``) fuses the gates and runs in place.
"""
import torch
import torch.nn.functional as F
from torch import nn

from danet.models.base import Generator
from danet.registry import MODELS


def _conv_act(in_channels: int, out_channels: int, act: nn.Module | None) -> nn.Sequential:
    """3×3 conv with bias (+ activation): keys ``0.weight``/``0.bias`` as the authors'."""
    layers = [nn.Conv2d(in_channels, out_channels, 3, 1, 1)]
    return nn.Sequential(*layers, act) if act is not None else nn.Sequential(*layers)


@MODELS.register_module()
class ConvLSTMUnit(nn.Module):
    """Convolutional LSTM over stages: gates ``conv_i/f/g/o`` on ``cat(x, h)``, state zeros at
    first; ``c = f·c + i·g``, ``h = o·tanh(c)``."""

    def __init__(self, channels: int = 32):
        super().__init__()
        self.channels = channels
        self.conv_i = _conv_act(2 * channels, channels, nn.Sigmoid())
        self.conv_f = _conv_act(2 * channels, channels, nn.Sigmoid())
        self.conv_g = _conv_act(2 * channels, channels, nn.Tanh())
        self.conv_o = _conv_act(2 * channels, channels, nn.Sigmoid())

    def init_state(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        zeros = x.new_zeros(x.shape[0], self.channels, *x.shape[2:])
        return zeros, zeros

    def forward(self, x: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
        h, c = state
        xh = torch.cat((x, h), 1)
        i, f, g, o = self.conv_i(xh), self.conv_f(xh), self.conv_g(xh), self.conv_o(xh)
        c = f * c + i * g
        h = o * torch.tanh(c)
        return h, (h, c)


@MODELS.register_module()
class ConvGRUUnit(nn.Module):
    """Convolutional GRU over stages: update ``conv_z`` and reset ``conv_b`` on ``cat(x, h)``,
    candidate ``conv_g`` on ``cat(b·h, x)``, ``h = (1 − z)·h + z·candidate``, state zeros at
    first."""

    def __init__(self, channels: int = 32):
        super().__init__()
        self.channels = channels
        self.conv_z = _conv_act(2 * channels, channels, nn.Sigmoid())
        self.conv_b = _conv_act(2 * channels, channels, nn.Sigmoid())
        self.conv_g = _conv_act(2 * channels, channels, nn.Tanh())

    def init_state(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(x.shape[0], self.channels, *x.shape[2:])

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        xh = torch.cat((x, h), 1)
        z, b = self.conv_z(xh), self.conv_b(xh)
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
            block = nn.Sequential(nn.Conv2d(channels, channels, 3, 1, 1), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 3, 1, 1), nn.ReLU())
            self.add_module(f'res_conv{k + 1}', block)

    def blocks(self) -> list[nn.Sequential]:
        """The block applied at each of the ``num_blocks`` steps."""
        return [getattr(self, 'res_conv1' if self.shared else f'res_conv{k + 1}')
                for k in range(self.num_blocks)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks():
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
            x = self.conv(x)
            if self.input_residual:
                x = x + rainy
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
