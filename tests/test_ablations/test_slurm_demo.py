"""A grid of real demo runs (2 trainings of the demo config + 1 broken cell) through
``--executor slurm`` on the one-node cluster gives the results of the same grid run locally."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from danet.datasets.pack import pack

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def demo_grid(tmp_path_factory) -> Path:
    """The demo config for 2 epochs on 6 random 112² pairs (tested on 2 others); axes: w/o ALM
    and a broken ALM (a registered type that is no ALM: passes the plan check, fails to build)."""
    root = tmp_path_factory.mktemp('demo_grid')
    rng = np.random.default_rng(0)
    for split, count in (('trainval', 6), ('test', 2)):   # training refuses test overlap
        for i in range(count):
            clean = rng.integers(0, 200, (112, 112, 3), dtype=np.uint8)
            rainy = clean.copy()
            rainy[:, rng.integers(0, 112, 10)] = 255
            for folder, image in (('clean', clean), ('rainy', rainy)):
                (root / split / folder).mkdir(parents=True, exist_ok=True)
                Image.fromarray(image).save(root / split / folder / f'{i:03d}.png')
    data, test = root / 'trainval.h5', root / 'test.h5'
    pack(root / 'trainval', data, val_fraction=0.34, workers=1)
    pack(root / 'test', test, workers=1)
    grid = root / 'demo_slurm.py'
    grid.write_text(f"""\
from ablations.demo_tiny import stages
base = 'configs/danet/danet_demo_1xb4-40e_synthetic-rain.py'
mode = 'one_at_a_time'
axes = {{'model.generator.alm.type': [('w/o ALM', 'PlainALM'), ('broken', 'CharbonnierLoss')]}}
seeds = [0]
testsets = ['SynthTest']
cfg_options = {{'train_dataloader.dataset.ann_file': {str(data)!r},
               'val_dataloader.dataset.ann_file': {str(data)!r},
               'test_dataloader.0.dataset.ann_file': {str(test)!r},
               'train_cfg.max_epochs': 2, 'train_cfg.val_interval': 2,
               'param_scheduler.0.T_max': 2, 'default_hooks.checkpoint.interval': 2}}
""")
    return grid


def run_grid(grid: Path, work: Path, *executor) -> dict:
    """Run the grid; ``{run_id: SynthTest results or the failed stage}`` and the output."""
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-m', 'ablations', 'run', str(grid), '--work-root',
                           str(work), '--max-parallel', '2', *executor],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr   # the broken cell fails
    assert '2 done, 1 failed' in proc.stdout, proc.stdout
    outcome = {}
    for run_dir in (p for p in (work / 'demo_slurm').iterdir() if p.is_dir()):
        if (run_dir / 'FAILED.json').exists():
            failed = json.loads((run_dir / 'FAILED.json').read_text())
            outcome[run_dir.name] = ('failed', failed['stage'], 'CharbonnierLoss' in failed['tail'])
        elif run_dir.name != '.submitit':
            results = json.loads((run_dir / 'results' / 'SynthTest.json').read_text())
            outcome[run_dir.name] = (results['summary'], results['images'])
    return outcome


def test_demo_grid_on_slurm_equals_the_local_run(slurm_cluster, demo_grid, tmp_path):
    on_slurm = run_grid(demo_grid, tmp_path / 'slurm', '--executor', 'slurm', '--cpus', '1')
    local = run_grid(demo_grid, tmp_path / 'local')
    assert len(local) == 3 and on_slurm == local
    assert sorted(v[0] if v[0] == 'failed' else 'done' for v in local.values()) == \
        ['done', 'done', 'failed']
    assert ('failed', 'train', True) in local.values()
