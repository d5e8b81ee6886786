"""``python -m danet new-model NAME --out DIR``: the skeleton of a plug-in package.

It writes a registered generator (the contract stated in its docstring), a config that inherits
the shipped bases by ``danet::`` reference and imports the package with ``custom_imports``, a grid
file with one component axis, a test, and a ``pyproject.toml``; it works with ``PYTHONPATH=DIR``
or ``pip install -e DIR``. Nothing is overwritten: an existing target file is refused before
any is written, and so is a NAME that an importable module or a registered model already has
(``check_model_name``). Walk-through: ``docs/extending.md``.
"""
import importlib.util
import keyword
import re
import sys
from pathlib import Path

from danet.utils.fileio import atomic_write_text
from danet.utils.names import check_name

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

CONFIG = '''# {cls} trained on the shipped Train40, tested on the shipped Rain100L/H folders under
# prenet_matlab, built from the platform's shipped bases (danet::PATH names configs/PATH of the
# installed platform). The data are read from $DANET_SHARED/data (else ../shared/data from the
# folder you run in). Train and test from any folder, the platform installed (docs/extending.md):
#   export DANET_SHARED=/path/to/shared PYTHONPATH=/path/to/this/package
#   python -m danet train configs/{config} --work-dir work_dirs/{name}  # or tools/train.py
#   python -m danet test configs/{config} CKPT --testsets Rain100L Mine=FOLDER_OR_H5
_base_ = [
    'danet::_base_/models/prenet.py',             # RestorationModel, SSIM loss on output 0
    'danet::_base_/datasets/train40.py',          # Train40; Rain100L/H under prenet_matlab
    'danet::_base_/schedules/prenet_multistep_100e.py',
    'danet::_base_/default_runtime.py',
]
custom_imports = dict(imports=['{name}'], allow_failed_imports=False)
model = dict(generator=dict(_delete_=True, type='{cls}', channels=32, blocks=4,
                            attention=dict(type='{cls}Attention')))
'''

GRID = '''# Does {cls}'s attention help? The base config (attention on) against the attention
# switched off by registered type: the report's ablation table and its paired statistics compare
# each variant with the base run (docs/ablations.md).
#   python -m ablations plan grids/{name}_components.py
#   python -m ablations run grids/{name}_components.py
#   python -m analysis report work_dirs/ablations/{name}_components --out work_dirs/report
base = '../configs/{config}'     # relative to this file
mode = 'one_at_a_time'
axes = {{'model.generator.attention.type': [('w/o attention', '{cls}NoAttention')]}}
base_labels = {{'model.generator.attention.type': 'attention'}}
axis_names = {{'model.generator.attention.type': 'Attention'}}
seeds = [0]
testsets = ['Rain100L', 'Rain100H']
stages = ['train', 'test_images']   # test_images also counts the MACs (complexity.json)
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


def next_steps(name: str, out: Path) -> str:
    """The commands to run after scaffolding into ``out`` (docs/extending.md shows them)."""
    return (f'next: export PYTHONPATH={out}:$PYTHONPATH (or pip install -e {out}); '
            f'python -m pytest {out / "tests"}; DANET_SHARED=/path/to/shared python '
            f'-m danet train {out / "configs" / f"{name}_1xb18-100e_train40.py"} '
            f'(docs/extending.md)')


def class_name(name: str) -> str:
    """``my_net`` → ``MyNet``; ``mynet`` → ``Mynet``."""
    return ''.join(part[:1].upper() + part[1:] for part in name.split('_'))


def check_model_name(name: str) -> None:
    """Refuse (``ValueError``, one line) a name that is no lower-case identifier, that an
    importable module already has (``torch``, ``json``, ``danet``: the package would shadow it or
    be shadowed), or whose classes a registered model already has, ignoring case (``d_a_net`` ->
    ``DANet``; ``generators()`` maps lower-case names)."""
    check_name(name, 'new-model NAME')
    if not re.fullmatch(r'[a-z][a-z0-9_]*', name) or keyword.iskeyword(name):
        raise ValueError(f'new-model NAME {name!r}: use a lower-case Python identifier '
                         '(letters, digits, _), e.g. mynet; it becomes the package name')
    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        raise ValueError(f'new-model NAME {name!r}: a standard library module has that name; '
                         'the package would shadow it: choose another name')
    spec = importlib.util.find_spec(name)
    if spec is not None:
        where = spec.origin or ', '.join(spec.submodule_search_locations or []) or 'built in'
        raise ValueError(f'new-model NAME {name!r}: a module of that name is importable here '
                         f'({where}); the package would shadow it or be shadowed: choose '
                         'another name')
    from danet.registry import MODELS  # here: writing text needs no torch, this check does
    MODELS.import_from_location()       # registers the shipped models
    cls = class_name(name)
    taken = {registered.lower(): registered for registered in MODELS.module_dict}
    clashes = [taken[c.lower()] for c in (cls, f'{cls}Attention', f'{cls}NoAttention')
               if c.lower() in taken]
    if clashes:
        raise ValueError(f'new-model NAME {name!r}: its class {cls} clashes with the registered '
                         f'{", ".join(clashes)} (names compare ignoring case): choose another '
                         'name')


def new_model(name: str, out: str | Path) -> list[Path]:
    """Write the plug-in package ``name`` into ``out``; return the written files."""
    check_model_name(name)
    out = Path(out)
    fields = dict(name=name, cls=class_name(name), config=f'{name}_1xb18-100e_train40.py')
    files = {out / name / '__init__.py': INIT, out / name / 'model.py': MODEL,
             out / 'configs' / fields['config']: CONFIG,
             out / 'grids' / f'{name}_components.py': GRID,
             out / 'tests' / f'test_{name}.py': TEST, out / 'pyproject.toml': PYPROJECT}
    existing = [str(path) for path in files if path.exists()]
    if existing:
        raise FileExistsError(f'{out}: would overwrite {", ".join(existing)}; choose another '
                              '--out or remove them')
    not_folders = sorted({str(folder) for path in files for folder in path.parents
                          if folder.exists() and not folder.is_dir()})
    if not_folders:
        raise NotADirectoryError(f'--out {out}: {", ".join(not_folders)} is a file where a '
                                 'folder must go; choose another --out')
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, template.format(**fields))
    return list(files)
