"""The CLI through submitit's local executor: parallel runs, kill -9 and resume."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_ablations.fake_stage import HOLD, MEET

REPO_ROOT = Path(__file__).resolve().parents[2]
THREE_VARIANTS = "{'model.variant': [('variant B', 'b'), ('variant C', 'c')]}"


def cli(*args, **popen_kwargs):
    return [sys.executable, '-m', 'ablations', *map(str, args)]


def plan(grid, work_root) -> list[dict]:
    out = subprocess.run(cli('plan', grid, '--json', '--work-root', work_root), cwd=REPO_ROOT,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def collected(runs) -> dict:
    return {r['run_id']: json.loads((Path(r['run_dir']) / 'results' / 'SetA.json').read_text())
            for r in runs}


@pytest.mark.slow
def test_two_runs_in_parallel_through_local_submitit(make_grid, tmp_path):
    grid = make_grid(axes="{'model.variant': [('variant B', 'b')]}",
                     extra="cfg_options = {'sleep': 0.5}\n")
    work = tmp_path / 'work'
    # each training waits for the other to start (fake_stage.MEET): sequential runs would fail
    proc = subprocess.run(cli('run', grid, '--max-parallel', 2, '--work-root', work,
                              '--progress-every', 0.2),
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, MEET: f'2:{tmp_path / "met"}'})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '2 done' in proc.stdout
    assert 'checkpoint iter_' in proc.stdout  # the per-run progress between completions
    trains = [json.loads((Path(r['run_dir']) / 'DONE.json').read_text())['stages']['train']
              for r in plan(grid, work)]
    assert trains[0]['started'] < trains[1]['finished'] and \
        trains[1]['started'] < trains[0]['finished'], 'the two runs did not overlap'
    again = subprocess.run(cli('run', grid, '--work-root', work), cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=300)
    assert '0 of 2 runs to do' in again.stdout


@pytest.mark.slow
def test_kill_9_mid_grid_then_resume_equals_uninterrupted(make_grid, tmp_path):
    grid = make_grid(axes=THREE_VARIANTS, extra="cfg_options = {'iters': 6}\n")
    work = tmp_path / 'work'
    runs = plan(grid, work)
    first, second = (Path(r['run_dir']) for r in runs[:2])
    # the second run's training holds after step 2 until killed (fake_stage.HOLD): mid-grid
    runner = subprocess.Popen(cli('run', grid, '--work-root', work), cwd=REPO_ROOT,
                              start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env={**os.environ, HOLD: f'2:{second}'})
    deadline = time.monotonic() + 300   # a failure bound only: the loop waits for the hold
    while not ((first / 'DONE.json').exists() and (second / 'train' / 'held').exists()):
        assert time.monotonic() < deadline and runner.poll() is None, 'runner never got mid-grid'
        time.sleep(0.1)
    os.killpg(runner.pid, signal.SIGKILL)
    runner.wait()
    assert not (second / 'DONE.json').exists()

    resumed = subprocess.run(cli('run', grid, '--work-root', work), cwd=REPO_ROOT,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert '2 of 3 runs to do' in resumed.stdout
    assert (first / 'logs' / 'train.log').read_text().count('===') == 1
    assert 'resumed from step' in (second / 'logs' / 'train.log').read_text()

    clean_work = tmp_path / 'clean'
    clean = subprocess.run(cli('run', grid, '--work-root', clean_work), cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert collected(runs) == collected(plan(grid, clean_work))
