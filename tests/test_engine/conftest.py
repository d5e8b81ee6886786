"""A tiny packed dataset and a tiny DANet run config built on the CPU smoke config."""
from pathlib import Path

import numpy as np
import pytest
from mmengine.hooks import Hook
from PIL import Image

from danet.datasets.pack import pack
from danet.engine.runner import DerainRunner, load_run_config, run_training

REPO_ROOT = Path(__file__).resolve().parents[2]
SMOKE_CONFIG = 'configs/danet/danet_smoke-cpu_1xb4-100e_train40.py'


def _write_tiny(src: Path, count: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    for folder in ('rainy', 'clean'):
        (src / folder).mkdir(parents=True)
    for i in range(count):
        clean = rng.integers(0, 200, (48, 48, 3), dtype=np.uint8)
        rainy = clean.copy()
        rainy[:, rng.integers(0, 48, 6)] = 255
        Image.fromarray(clean).save(src / 'clean' / f'{i:03d}.png')
        Image.fromarray(rainy).save(src / 'rainy' / f'{i:03d}.png')
    return src


@pytest.fixture(scope='session')
def tiny_h5(tmp_path_factory):
    """Six 48×48 pairs (clean + bright streaks), two of them in the validation split; beside it
    ``tiny_test.h5``, six other pairs for the test loaders (training refuses test overlap)."""
    root = tmp_path_factory.mktemp('tiny')
    out = root / 'tiny.h5'
    pack(_write_tiny(root / 'src', 6, 0), out, val_fraction=0.34, workers=1)
    pack(_write_tiny(root / 'test_src', 6, 1), tiny_test_h5(out), workers=1)
    return out


def tiny_test_h5(tiny_h5: Path) -> Path:
    return tiny_h5.parent / 'tiny_test.h5'


def tiny_config(tiny_h5, work_dir, max_epochs=2, **overrides):
    """The smoke config shrunk to seconds on the tiny data (2 iterations per epoch)."""
    options = {
        'model.generator.n_feat': 8, 'model.generator.num_cab': 1,
        'train_dataloader.batch_size': 2, 'train_dataloader.num_workers': 0,
        'train_dataloader.dataset.ann_file': str(tiny_h5),
        'train_dataloader.dataset.pipeline.0.crop_size': 32,
        'val_dataloader.dataset.ann_file': str(tiny_h5),
        'test_dataloader.0.dataset.ann_file': str(tiny_test_h5(tiny_h5)),
        'test_dataloader.1.dataset.ann_file': str(tiny_test_h5(tiny_h5)),
        'train_cfg.max_epochs': max_epochs, 'train_cfg.val_interval': 1,
        'default_hooks.checkpoint.interval': 1, 'default_hooks.logger.interval': 1,
        'visualizer.vis_backends': [dict(type='LocalVisBackend')],
        **overrides}
    return load_run_config(REPO_ROOT / SMOKE_CONFIG, work_dir, options)


@pytest.fixture
def tiny_cfg(tiny_h5, repo_root, monkeypatch):
    """``make(work_dir, max_epochs=2, **overrides)``: :func:`tiny_config` from the repo root."""
    monkeypatch.chdir(repo_root)

    def make(work_dir, max_epochs=2, **overrides):
        return tiny_config(tiny_h5, work_dir, max_epochs, **overrides)
    return make


@pytest.fixture(scope='session')
def tiny_config_file(tiny_h5, tmp_path_factory):
    """:func:`tiny_config` (2 epochs) as a standalone config file for the command-line tools."""
    path = tmp_path_factory.mktemp('cfg') / 'tiny_danet.py'
    tiny_config(tiny_h5, 'unused').dump(str(path))
    return path


@pytest.fixture(scope='session')
def straight_run(tiny_h5, tmp_path_factory):
    """An uninterrupted 2-epoch run of the tiny config: what every resumed run must match."""
    work_dir = tmp_path_factory.mktemp('straight') / 'run'
    run_training(tiny_config(tiny_h5, work_dir, max_epochs=2))
    return work_dir


class _Stop(Exception):
    """Raised right after the first epoch's checkpoint by ``train_with_hooks(crash=True)``."""


class _CrashAfterFirstEpoch(Hook):
    def after_train_epoch(self, runner) -> None:
        raise _Stop


@pytest.fixture
def train_with_hooks():
    """``train(cfg, *hooks, crash=False, resume=False)``: build a ``DerainRunner``, register
    ``hooks`` (priority LOWEST: after the checkpoint is saved) and train; ``crash`` stops it
    like a kill right after the first epoch's checkpoint. Returns the runner."""
    def train(cfg, *hooks, crash=False, resume=False):
        cfg.resume = resume
        runner = DerainRunner.from_cfg(cfg)
        for hook in (*hooks, *([_CrashAfterFirstEpoch()] if crash else [])):
            runner.register_hook(hook, priority='LOWEST')
        try:
            runner.train()
        except _Stop:
            pass
        return runner
    return train
