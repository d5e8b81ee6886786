"""Provenance of a run: ``env.json`` (code, packages, device, seed, config and dataset hashes).

``config_hash`` is the sha256 of a canonical JSON form of the resolved config data (keys sorted,
tuples as lists) with the keys that name *where* a run happens rather than *what* it computes
(:data:`VOLATILE_KEYS`) removed, so the same experiment in another directory, resumed, or written
with other formatting hashes the same; no formatter (yapf) is involved. Renamed types
(``danet.registry.RENAMED_TYPES``) are hashed under their old names, so a config written with
either name hashes the same.
"""
import hashlib
import importlib.metadata
import json
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import torch
from mmengine.config import Config

from danet.registry import RENAMED_TYPES
from danet.utils.fileio import atomic_write_json
from danet.utils.threads import applied_policy

VOLATILE_KEYS = ('work_dir', 'resume', 'launcher', 'experiment_name')
PACKAGES = ('torch', 'torchvision', 'mmengine', 'mmcv-lite', 'numpy', 'h5py', 'lpips', 'fvcore',
            'Pillow', 'scikit-image')


def canonical_config(cfg: Config) -> str:
    """The config data without :data:`VOLATILE_KEYS` as canonical JSON (sorted keys, no
    whitespace); values JSON cannot hold (a class, a function) appear as their ``repr``."""
    data = _old_type_names({k: v for k, v in cfg.to_dict().items() if k not in VOLATILE_KEYS})
    return json.dumps(data, sort_keys=True, separators=(',', ':'), ensure_ascii=True,
                      allow_nan=True, default=repr)


def _old_type_names(value):
    """``value`` with every ``type`` in :data:`RENAMED_TYPES` replaced by its old name."""
    if isinstance(value, dict):
        return {k: (RENAMED_TYPES.get(v, v) if k == 'type' and isinstance(v, str)
                    else _old_type_names(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_old_type_names(v) for v in value]
    return value


def config_hash(cfg: Config) -> str:
    """sha256 (hex) of :func:`canonical_config`."""
    return hashlib.sha256(canonical_config(cfg).encode()).hexdigest()


def git_state(repo: Path | None = None) -> dict:
    """``commit`` and ``dirty`` (tracked files changed) of ``repo`` (default: the git work tree
    holding this package, if any); None values outside git."""
    repo = repo or Path(__file__).resolve().parent

    def git(*args):
        return subprocess.run(['git', '-C', str(repo), *args], capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()
    try:
        commit = git('rev-parse', 'HEAD')
        dirty = bool(git('status', '--porcelain', '--untracked-files=no'))
    except (OSError, subprocess.SubprocessError):
        return dict(commit=None, dirty=None)
    return dict(commit=commit, dirty=dirty)


def package_versions() -> dict:
    versions = {'python': platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def device_info(device: str | torch.device) -> dict:
    device = torch.device(device)
    info = dict(device=str(device), host=socket.gethostname(), cpu=platform.processor() or
                platform.machine(), torch_threads=torch.get_num_threads(),
                thread_policy=applied_policy(),
                cuda=torch.version.cuda)
    if device.type == 'cuda':
        info['gpu'] = torch.cuda.get_device_name(device)
    return info


def dataset_hashes(datasets: dict) -> dict:
    """``{name: dataset.dataset_hash}``; a dataset without the attribute is an error."""
    hashes = {}
    for name, dataset in datasets.items():
        if not hasattr(dataset, 'dataset_hash'):
            raise AttributeError(f'dataset {name!r} ({type(dataset).__name__}) has no '
                                 '`dataset_hash`; provenance needs one for every dataset read')
        hashes[name] = dataset.dataset_hash
    return hashes


def collect_env(cfg: Config, seed: int | None, device, datasets: dict, phase: str) -> dict:
    """The provenance record of one invocation (``phase``: ``train`` or ``test``)."""
    return dict(phase=phase, time=time.strftime('%Y-%m-%dT%H:%M:%S%z'),
                command=' '.join(sys.argv), git=git_state(), packages=package_versions(),
                seed=seed, **device_info(device), config_hash=config_hash(cfg),
                dataset_hashes=dataset_hashes(datasets))


def record_env(work_dir: str | Path, record: dict) -> Path:
    """Write ``record`` to ``<work_dir>/env.json``; earlier records move into its ``history``."""
    path = Path(work_dir) / 'env.json'
    history = []
    if path.is_file():
        previous = json.loads(path.read_text())
        history = previous.pop('history', []) + [previous]
    atomic_write_json(path, dict(record, history=history))
    return path
