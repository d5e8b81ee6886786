"""A tiny packed dataset and a tiny DANet run config built on the CPU smoke config."""
import numpy as np
import pytest
from PIL import Image

from danet.engine.runner import load_run_config
from data_tools.pack import pack

SMOKE_CONFIG = 'configs/danet/danet_smoke_cpu.py'


@pytest.fixture(scope='session')
def tiny_h5(tmp_path_factory):
    """Six 48×48 pairs (clean + bright streaks), two of them in the validation split."""
    root = tmp_path_factory.mktemp('tiny')
    rng = np.random.default_rng(0)
    for folder in ('rainy', 'clean'):
        (root / 'src' / folder).mkdir(parents=True)
    for i in range(6):
        clean = rng.integers(0, 200, (48, 48, 3), dtype=np.uint8)
        rainy = clean.copy()
        rainy[:, rng.integers(0, 48, 6)] = 255
        Image.fromarray(clean).save(root / 'src' / 'clean' / f'{i:03d}.png')
        Image.fromarray(rainy).save(root / 'src' / 'rainy' / f'{i:03d}.png')
    out = root / 'tiny.h5'
    pack(root / 'src', out, val_fraction=0.34, workers=1)
    return out


@pytest.fixture
def tiny_cfg(tiny_h5, repo_root, monkeypatch):
    """``make(work_dir, **overrides)``: the smoke config shrunk to seconds on the tiny data."""
    monkeypatch.chdir(repo_root)

    def make(work_dir, max_epochs=2, **overrides):
        options = {
            'model.generator.n_feat': 8, 'model.generator.num_cab': 1,
            'train_dataloader.batch_size': 2, 'train_dataloader.num_workers': 0,
            'train_dataloader.dataset.ann_file': str(tiny_h5),
            'train_dataloader.dataset.pipeline.0.crop_size': 32,
            'val_dataloader.dataset.ann_file': str(tiny_h5),
            'test_dataloader.0.dataset.ann_file': str(tiny_h5),
            'test_dataloader.1.dataset.ann_file': str(tiny_h5),
            'train_cfg.max_epochs': max_epochs, 'train_cfg.val_interval': 1,
            'default_hooks.checkpoint.interval': 1, 'default_hooks.logger.interval': 1,
            'visualizer.vis_backends': [dict(type='LocalVisBackend')],
            **overrides}
        return load_run_config(SMOKE_CONFIG, work_dir, options)
    return make
