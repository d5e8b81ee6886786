"""The grid runner on a real one-node Slurm cluster (tools/local_slurm.sh, no accounting, so no
``sacct``): scancel, SIGKILL, impossible requests and an interrupted runner, with fake stages."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ablations.grid import expand, load_grid
from ablations.runner import execute_run, run_dir_of
from tests.test_ablations.fake_stage import HOLD

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def cli(*args) -> list[str]:
    return [sys.executable, '-m', 'ablations', *map(str, args)]


def slurm_run(grid, work, *extra) -> list[str]:
    return cli('run', grid, '--executor', 'slurm', '--cpus', 1, '--work-root', work, *extra)


def holding(step: int) -> dict:
    """The environment of a runner whose jobs' trainings hold after ``step`` until stopped
    (``fake_stage.HOLD``; Slurm passes the submitter's environment to the job)."""
    return {**os.environ, HOLD: str(step)}


def active_jobs() -> dict[str, str]:
    out = subprocess.run(['squeue', '-h', '-o', '%i|%T'], capture_output=True, text=True,
                         check=True).stdout
    return dict(line.split('|') for line in out.splitlines())


def wait_for(condition, timeout: float, what: str, runner=None):
    """Wait for ``condition``; ``timeout`` is a failure bound only, never a guess of the timing."""
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f'timed out waiting for {what}'
        assert runner is None or runner.poll() is None, \
            f'runner exited before {what}: {runner.communicate()}'
        time.sleep(0.2)


def stage_processes(run_dir: Path) -> list[int]:
    """Pids of live processes whose command line names ``run_dir`` (the fake stages)."""
    pids = []
    for proc in Path('/proc').glob('[0-9]*'):
        try:
            cmdline = (proc / 'cmdline').read_bytes().replace(b'\0', b' ').decode()
            state = (proc / 'stat').read_text().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if str(run_dir) in cmdline and 'fake_stage.py' in cmdline and state != 'Z':
            pids.append(int(proc.name))
    return pids


def one_run_grid(make_grid, iters=40):
    grid = make_grid(axes="{'model.variant': [('variant B', 'b')]}",
                     extra=f"cfg_options = {{'iters': {iters}}}\n"
                           "exclude = [{'model.variant': 'variant B'}]\n")
    return grid


def run_dir_of_only_run(grid, work) -> Path:
    (spec,) = expand(load_grid(str(grid)))
    return run_dir_of(work, spec)


def test_cpus_beyond_any_node_is_refused_before_submitting(slurm_cluster, make_grid, tmp_path):
    before = active_jobs()
    proc = subprocess.run(cli('run', make_grid(), '--executor', 'slurm', '--cpus', 999,
                              '--work-root', tmp_path / 'work'),
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert '--cpus 999' in proc.stderr and f'at most {os.cpu_count()} CPUs' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert active_jobs() == before and not (tmp_path / 'work' / 'fake' / '.submitit').exists()


def test_scancel_is_an_interruption_and_a_plain_rerun_resumes(slurm_cluster, make_grid, tmp_path):
    grid, work = one_run_grid(make_grid, iters=12), tmp_path / 'work'
    run_dir = run_dir_of_only_run(grid, work)
    runner = subprocess.Popen(slurm_run(grid, work), cwd=REPO_ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=holding(3))
    wait_for((run_dir / 'train' / 'held').exists, 300, 'the training to hold at step 3', runner)
    (job_id,) = active_jobs()
    subprocess.run(['scancel', job_id], check=True)
    out, _ = runner.communicate(timeout=60)
    assert runner.returncode == 1, out
    assert 'interrupted' in out and 'run the same command again to resume' in out
    assert not (run_dir / 'FAILED.json').exists() and (run_dir / 'INTERRUPTED.json').exists()
    status = subprocess.run(cli('status', grid, '--work-root', work), cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert '1 interrupted' in status.stdout

    rerun = subprocess.run(slurm_run(grid, work), cwd=REPO_ROOT, capture_output=True, text=True,
                           timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert '1 of 1 runs to do' in rerun.stdout and '1 done' in rerun.stdout
    assert 'resumed from step' in (run_dir / 'logs' / 'train.log').read_text()
    # the same final state as an uninterrupted run
    loaded = load_grid(str(grid))
    (spec,) = expand(loaded)
    clean = run_dir_of(tmp_path / 'clean', spec)
    assert execute_run(loaded, spec, str(clean)) == 'done'
    assert json.loads((run_dir / 'results' / 'SetA.json').read_text()) == \
        json.loads((clean / 'results' / 'SetA.json').read_text())


def test_sigkilled_job_is_reported_in_bounded_time_and_its_stage_dies(slurm_cluster, make_grid,
                                                                      tmp_path):
    grid, work = one_run_grid(make_grid), tmp_path / 'work'
    run_dir = run_dir_of_only_run(grid, work)
    runner = subprocess.Popen(slurm_run(grid, work), cwd=REPO_ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=holding(2))
    wait_for((run_dir / 'train' / 'held').exists, 300, 'the training to hold at step 2', runner)
    job_pid = json.loads((run_dir / '.lock').read_text())['pid']
    assert stage_processes(run_dir)
    os.kill(job_pid, signal.SIGKILL)   # no result, no marker: only Slurm knows the job is over
    killed = time.time()
    out, _ = runner.communicate(timeout=60)
    assert time.time() - killed < 30, 'the runner took too long to notice'
    assert runner.returncode == 1, out
    assert 'without a result' in out, out
    wait_for(lambda: not stage_processes(run_dir), 60, 'the stage to die with its job')
    assert sorted(p.name for p in (run_dir / 'train').glob('iter_*.json')) == \
        ['iter_1.json', 'iter_2.json']   # held at step 2, then killed with its job
    state = json.loads((run_dir / 'INTERRUPTED.json').read_text())
    assert 'without a result' in state['reason']


def test_interrupting_the_runner_cancels_its_jobs(slurm_cluster, make_grid, tmp_path):
    grid = make_grid(axes="{'model.variant': [('variant B', 'b'), ('variant C', 'c')]}",
                     extra="cfg_options = {'iters': 200}\n")
    work = tmp_path / 'work'
    before = set(active_jobs())
    runner = subprocess.Popen(slurm_run(grid, work, '--max-parallel', 3), cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=holding(1))
    # two 1-CPU jobs run on the 2-CPU node, the third waits in the queue
    wait_for(lambda: len(set(active_jobs()) - before) == 3 and
             list(work.glob('fake/*/train/held')), 300, 'jobs to start', runner)
    mine = set(active_jobs()) - before
    runner.send_signal(signal.SIGINT)
    out, _ = runner.communicate(timeout=60)
    assert runner.returncode == 130, out
    assert 'cancelled 3 queued or running jobs' in out
    wait_for(lambda: not mine & set(active_jobs()), 30, 'the jobs to leave the queue')
    status = subprocess.run(cli('status', grid, '--work-root', work), cwd=REPO_ROOT,
                            capture_output=True, text=True).stdout
    assert 'running' not in status and 'failed' not in status, status
