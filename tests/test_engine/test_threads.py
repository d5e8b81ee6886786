"""The thread policy: its choice, its record in env.json, and a grid cell equal to the command
``ablations plan --json`` prints for it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from danet.utils.threads import choose_threads


def test_budget_minus_loader_workers_and_explicit_settings_win(monkeypatch):
    for name in ('DANET_CPUS', 'OMP_NUM_THREADS', 'SLURM_CPUS_PER_TASK'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os, 'sched_getaffinity', lambda pid: set(range(8)))
    assert choose_threads(2) == dict(threads=6, cpus=8, loader_workers=2, source='cores')
    assert choose_threads(8)['threads'] == 1  # never zero
    monkeypatch.setenv('SLURM_CPUS_PER_TASK', '4')
    assert choose_threads(2)['threads'] == 2
    monkeypatch.setenv('DANET_CPUS', '3')
    assert choose_threads(0) == dict(threads=3, cpus=3, loader_workers=0, source='DANET_CPUS')
    monkeypatch.setenv('OMP_NUM_THREADS', '5')
    assert choose_threads(2)['threads'] == 5
    monkeypatch.setenv('DANET_CPUS', 'many')
    with pytest.raises(ValueError, match="DANET_CPUS='many': expected a positive integer"):
        choose_threads()


def test_env_json_records_the_choice(straight_run):
    env = json.loads((straight_run / 'env.json').read_text())
    assert set(env['thread_policy']) == {'threads', 'cpus', 'loader_workers', 'source'}
    assert env['torch_threads'] == env['thread_policy']['threads']


@pytest.mark.slow
def test_grid_cell_is_bit_identical_to_the_command_plan_prints(tiny_config_file, repo_root,
                                                              tmp_path):
    grid = tmp_path / 'cell.py'
    grid.write_text(f"base = {str(tiny_config_file)!r}\nmode = 'one_at_a_time'\naxes = {{}}\n"
                    "seeds = [0]\ntestsets = ['Rain100L']\n"
                    "stages = ['train']\n")
    env = {k: v for k, v in os.environ.items() if k not in ('OMP_NUM_THREADS', 'DANET_CPUS')}
    env['PATH'] = f'{Path(sys.executable).parent}{os.pathsep}{env["PATH"]}'
    common = ['--work-root', str(tmp_path / 'grid'), '--max-parallel', '2']
    ablations = [sys.executable, '-m', 'ablations']
    proc = subprocess.run([*ablations, 'run', str(grid), *common], cwd=repo_root, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [run] = json.loads(subprocess.run([*ablations, 'plan', str(grid), '--json', *common],
                                      cwd=repo_root, env=env, check=True, capture_output=True,
                                      text=True).stdout)
    alone = tmp_path / 'alone'
    command = run['command'].replace(f"{run['run_dir']}/train", str(alone))
    subprocess.run(['bash', '-c', command], cwd=repo_root, env=env, check=True,
                   capture_output=True)
    in_grid = Path(run['run_dir']) / 'train'
    for work_dir in (in_grid, alone):
        policy = json.loads((work_dir / 'env.json').read_text())['thread_policy']
        assert policy['source'] == 'DANET_CPUS'
    a, b = (torch.load(d / 'epoch_2.pth', weights_only=True)['state_dict']
            for d in (in_grid, alone))
    assert all(torch.equal(a[k], b[k]) for k in a)
