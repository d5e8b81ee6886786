"""What a grid and a run are (plain data, cheap to import in every job process)."""
import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
WEIGHTS_ENV = 'DANET_WEIGHTS_DIR'


def weights_dir(default: str) -> str:
    """The folder of converted released weights an evaluate-only grid reads its checkpoints from:
    ``$DANET_WEIGHTS_DIR`` (``python -m ablations ... --weights-dir DIR`` sets it), else
    ``default`` (relative to the repository root). The checkpoint path is part of a run's id, so
    ``status`` and ``rank`` must be given the same folder as ``run``."""
    return os.environ.get(WEIGHTS_ENV) or default
# Configs renamed to OpenMMLab names (docs/training.md#configs): a run id hashes the path its
# config had when the id was first made, so runs finished before the rename are found, not redone.
FORMER_CONFIG_PATHS = {
    'configs/danet/danet_1xb16-1000e_rain13k.py': 'configs/danet/danet_rain13k.py',
    'configs/danet/danet_smoke-cpu_1xb4-100e_train40.py': 'configs/danet/danet_smoke_cpu.py',
    'configs/danet/danet_demo_1xb4-40e_synthetic-rain.py': 'configs/danet/danet_demo_synthetic.py',
    'configs/danet/danet_1xb16-1000e_synthetic-haze.py': 'configs/danet/danet_dehaze_synthetic.py',
    'configs/danet/danet_1xb16-1000e_synthetic-lowlight.py':
        'configs/danet/danet_lowlight_synthetic.py',
    'configs/mprnet/mprnet_1xb16-250e_rain13k.py': 'configs/mprnet/mprnet_rain13k.py',
    'configs/pcnet/pcnet_1xb32-1000e_rain13k.py': 'configs/pcnet/pcnet_rain13k.py',
    'configs/prenet/prenet_1xb18-100e_rain100h.py': 'configs/prenet/prenet_rain100h.py',
    'configs/prenet/prenet_gru_1xb18-100e_rain100h.py': 'configs/prenet/prenet_gru_rain100h.py',
    'configs/prenet/prenet_mse_1xb18-100e_rain100h.py': 'configs/prenet/prenet_mse_rain100h.py',
    'configs/prenet/prenet_r_1xb18-100e_rain100h.py': 'configs/prenet/prenet_r_rain100h.py',
    'configs/prenet/prenet_x_1xb18-100e_rain100h.py': 'configs/prenet/prenet_x_rain100h.py',
    'configs/prenet/prn_1xb18-100e_rain100h.py': 'configs/prenet/prn_rain100h.py',
    'configs/prenet/prn_r_1xb18-100e_rain100h.py': 'configs/prenet/prn_r_rain100h.py',
    'configs/prenet/prenet_real_1xb18-100e_rain100h.py': 'configs/prenet/prenet_real.py',
}


class GridError(ValueError):
    """A grid file that breaks the format; the message names the file and the key."""


@dataclass(frozen=True)
class AxisValue:
    label: str
    value: object


@dataclass
class Grid:
    name: str
    path: Path
    base: str
    axes: dict[str, list[AxisValue]]
    mode: str
    seeds: list[int]
    testsets: list[str]                # test set names: results/<name>.json of every run
    cfg_options: dict = field(default_factory=dict)
    include: list[dict] = field(default_factory=list)
    exclude: list[dict] = field(default_factory=list)
    seed_key: str = 'randomness.seed'
    macs_shape: list[int] = field(default_factory=lambda: [3, 256, 256])
    stages: list[dict] | None = None
    base_labels: dict[str, str] = field(default_factory=dict)   # axis key -> the base's label
    axis_names: dict[str, str] = field(default_factory=dict)    # axis key -> column title
    testset_paths: dict[str, str] = field(default_factory=dict)  # NAME=PATH entries: name -> path

    def testset_args(self) -> list[str]:
        """The test sets as ``tools/test.py --testsets`` takes them: ``NAME`` or ``NAME=PATH``."""
        return [f'{n}={self.testset_paths[n]}' if n in self.testset_paths else n
                for n in self.testsets]


@dataclass
class RunSpec:
    """One cell of a grid at one seed: everything needed to run and to describe it."""
    grid: str
    run_id: str
    base: str
    seed: int
    axes: dict[str, AxisValue]
    overrides: dict
    config_hash: str
    base_axes: dict[str, AxisValue] = field(default_factory=dict)   # the base's choice per axis
    axis_names: dict[str, str] = field(default_factory=dict)
    checkpoint: str | None = None   # evaluate-only: the cell's checkpoint, no training

    def to_json(self) -> dict:
        def labelled(axes: dict[str, AxisValue]) -> dict:
            return {k: {'label': a.label, 'value': a.value} for k, a in axes.items()}
        return {'grid': self.grid, 'run_id': self.run_id, 'base': self.base, 'seed': self.seed,
                'axes': labelled(self.axes), 'overrides': self.overrides,
                'config_hash': self.config_hash, 'base_axes': labelled(self.base_axes),
                'axis_names': self.axis_names, 'checkpoint': self.checkpoint}


def format_cfg_value(value) -> str:
    """A Python value in the syntax ``--cfg-options`` parses back to the same value."""
    if isinstance(value, list | tuple):
        inner = ','.join(format_cfg_value(v) for v in value)
        return f'[{inner}]' if isinstance(value, list) else f'({inner},)'
    if isinstance(value, dict):
        raise TypeError(f'--cfg-options cannot express a dict value: {value!r}; '
                        f'set its keys one by one')
    return str(value)


def cfg_option_args(overrides: dict) -> list[str]:
    """``['k=v', ...]`` for ``--cfg-options``."""
    return [f'{k}={format_cfg_value(v)}' for k, v in overrides.items()]
