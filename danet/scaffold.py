"""``python -m danet new-model NAME --out DIR``: the skeleton of a plug-in package.

It writes a registered generator (the contract stated in its docstring), a config that inherits
the shipped bases by ``danet::`` reference and imports the package with ``custom_imports``, a grid
file with one component axis, a test, and a ``pyproject.toml``; it works with ``PYTHONPATH=DIR``
or ``pip install -e DIR``. Nothing is overwritten: an existing target file is refused before
any is written. Walk-through: ``docs/extending.md``.
"""
import keyword
import re
from pathlib import Path

from danet.utils.fileio import atomic_write_text

MODEL = '''"""{cls}: a restoration generator registered in the platform's ``danet`` scope.

The generator contract (docs/extending.md of the platform):
- ``forward(x)`` takes a B×3×H×W float tensor in [0, 1]; the platform pads H and W to a multiple
  of ``size_divisor`` (reflect) and crops the outputs back;
- it returns a list of tensors, the final B×3×H×W image first; further entries (intermediate
  outputs) are there for losses that select them by index (``outputs=[1]``);
- parts that an ablation toggles are config dicts built from ``MODELS`` (here ``attention``), so a
  grid swaps their ``type`` instead of setting flags.
"""
from torch import nn

from danet.models.base import Generator
from danet.registry import MODELS


@MODELS.register_module()
class {cls}Attention(nn.Module):
    """Channel attention (squeeze and excitation): the component the grid file toggles."""

    def __init__(self, channels: int):
        super().__init__()
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, channels, 1),
                                  nn.Sigmoid())

    def forward(self, x):
        return x * self.gate(x)


@MODELS.register_module()
class {cls}NoAttention(nn.Module):
    """The attention switched off: the same interface, the identity."""

    def __init__(self, channels: int):
        super().__init__()

    def forward(self, x):
        return x


@MODELS.register_module()
class {cls}(Generator):
    """Residual CNN: ``blocks`` 3×3 conv + ReLU layers of ``channels`` features, then
    ``attention``; predicts the residual added to the input."""

    size_divisor = 1

    def __init__(self, channels: int = 32, blocks: int = 4, attention: dict | None = None):
        super().__init__()
        self.head = nn.Conv2d(3, channels, 3, padding=1)
        self.body = nn.Sequential(*[nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1),
                                                  nn.ReLU(inplace=True))
                                    for _ in range(blocks)])
        attention = dict(type='{cls}Attention') if attention is None else attention
        self.attention = MODELS.build(dict(attention, channels=channels))
        self.tail = nn.Conv2d(channels, 3, 3, padding=1)

    def forward(self, x):
        return [x + self.tail(self.attention(self.body(self.head(x))))]
'''

INIT = '''"""{name}: a plug-in of the DANet platform (registers {cls} in the ``danet`` scope)."""
from {name}.model import {cls}, {cls}Attention, {cls}NoAttention

__all__ = ['{cls}', '{cls}Attention', '{cls}NoAttention']
'''

CONFIG = '''# {cls} on PReNet's Rain100H setting, built from the platform's shipped bases
# (danet::PATH names configs/PATH of the installed platform). Train and test from any folder:
#   python PLATFORM/tools/train.py configs/{config}
#   python PLATFORM/tools/test.py configs/{config} CKPT --testsets Mine=FOLDER_OR_H5
_base_ = [
    'danet::_base_/models/prenet.py',             # RestorationModel, SSIM loss on output 0
    'danet::_base_/datasets/prenet_rain100h.py',  # RainTrainH; Rain100L/H under prenet_matlab
    'danet::_base_/schedules/prenet_multistep_100e.py',
    'danet::_base_/default_runtime.py',
]
custom_imports = dict(imports=['{name}'], allow_failed_imports=False)
model = dict(generator=dict(_delete_=True, type='{cls}', channels=32, blocks=4,
                            attention=dict(type='{cls}Attention')))
'''

GRID = '''# Does {cls}'s attention help? One component axis, toggled by registered type.
#   python -m ablations plan grids/{name}_components.py --work-root work_dirs/ablations
base = '../configs/{config}'     # relative to this file
axes = {{'model.generator.attention.type': [('w/o attention', '{cls}NoAttention'),
                                           ('attention', '{cls}Attention')]}}
mode = 'factorial'
seeds = [0]
testsets = ['Rain100L', 'Rain100H']
'''

TEST = '''"""{cls} builds from its config and keeps the platform's generator contract."""
from pathlib import Path

import torch

from danet.apis.inference import init_model
from danet.models.base import contract_outputs

CONFIG = Path(__file__).resolve().parents[1] / 'configs' / '{config}'


def test_the_config_builds_and_forward_keeps_the_contract():
    model = init_model(CONFIG)
    x = torch.rand(2, 3, 24, 32)
    with torch.no_grad():
        outputs = contract_outputs(model.generator, x, model.generator(x))
    assert outputs[0].shape == x.shape


def test_the_attention_can_be_switched_off():
    on = init_model(CONFIG)
    off = init_model(CONFIG, cfg_options={{'model.generator.attention.type': '{cls}NoAttention'}})
    assert sum(p.numel() for p in off.parameters()) < sum(p.numel() for p in on.parameters())
'''

PYPROJECT = '''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "0.1.0"
description = "{cls}: a plug-in of the DANet research platform"
requires-python = ">=3.11"

[tool.setuptools]
packages = ["{name}"]
'''


def class_name(name: str) -> str:
    """``my_net`` → ``MyNet``; ``mynet`` → ``Mynet``."""
    return ''.join(part[:1].upper() + part[1:] for part in name.split('_'))


def new_model(name: str, out: str | Path) -> list[Path]:
    """Write the plug-in package ``name`` into ``out``; return the written files."""
    if not re.fullmatch(r'[a-z][a-z0-9_]*', name) or keyword.iskeyword(name):
        raise ValueError(f'model name {name!r}: use a lower-case Python identifier '
                         '(letters, digits, _), e.g. mynet; it becomes the package name')
    out = Path(out)
    fields = dict(name=name, cls=class_name(name), config=f'{name}_1xb18-100e_rain100h.py')
    files = {out / name / '__init__.py': INIT, out / name / 'model.py': MODEL,
             out / 'configs' / fields['config']: CONFIG,
             out / 'grids' / f'{name}_components.py': GRID,
             out / 'tests' / f'test_{name}.py': TEST, out / 'pyproject.toml': PYPROJECT}
    existing = [str(path) for path in files if path.exists()]
    if existing:
        raise FileExistsError(f'{out}: would overwrite {", ".join(existing)}; choose another '
                              '--out or remove them')
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, template.format(**fields))
    return list(files)
