"""The job function and run states, driven by fake stages (no submitit, no training)."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import submitit

from ablations.__main__ import main
from ablations.grid import expand, load_grid
from ablations.rundir import DONE, FAILED, INTERRUPTED, RunState, run_state
from ablations.runner import execute_run, make_executor, run_dir_of, select_runs, slurm_parameters
from ablations.stages import grid_stages
from danet.utils.processes import pid_alive
from danet.utils.run_lock import LOCK, RunLock
from tests.test_ablations.fake_stage import HOLD

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def grid_and_runs(make_grid):
    grid = load_grid(str(make_grid()))
    return grid, {r.run_id.split('_')[0]: r for r in expand(grid)}


def state(grid, run_dir):
    return run_state(run_dir, grid_stages(grid), grid.testsets)


def test_run_completes_and_failure_is_recorded(grid_and_runs, tmp_path, capsys):
    grid, runs = grid_and_runs
    ok, broken = run_dir_of(tmp_path, runs['variant-b']), run_dir_of(tmp_path, runs['broken'])
    assert execute_run(grid, runs['broken'], str(broken)) == 'failed'
    assert execute_run(grid, runs['variant-b'], str(ok)) == 'done'
    done = json.loads((ok / DONE).read_text())
    assert list(done['stages']) == ['train', 'test', 'macs']
    assert state(grid, ok).state == 'done'
    failed = json.loads((broken / FAILED).read_text())
    assert failed['stage'] == 'train' and 'fake training diverged' in failed['tail']
    assert state(grid, broken).state == 'failed'
    assert main(['status', str(grid.path), '--work-root', str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert '1 done, 1 failed, 1 pending' in out and 'fake training diverged' in out


def test_retry_failed_selects_failed_runs_only_when_asked(grid_and_runs, tmp_path):
    grid, runs = grid_and_runs
    execute_run(grid, runs['broken'], str(run_dir_of(tmp_path, runs['broken'])))
    specs = list(runs.values())
    assert [r.run_id for r in select_runs(grid, specs, tmp_path, False)] == \
        [runs['base'].run_id, runs['variant-b'].run_id]
    assert len(select_runs(grid, specs, tmp_path, True)) == 3


def test_corrupt_results_reported_and_only_test_redone(grid_and_runs, tmp_path):
    grid, runs = grid_and_runs
    run_dir = run_dir_of(tmp_path, runs['base'])
    execute_run(grid, runs['base'], str(run_dir))
    results = run_dir / 'results' / 'SetA.json'
    good = results.read_text()
    results.write_text(good[:40])
    st = state(grid, run_dir)
    assert st.state == 'corrupt' and 'SetA.json' in st.detail
    assert runs['base'] in select_runs(grid, list(runs.values()), tmp_path, False)
    assert execute_run(grid, runs['base'], str(run_dir)) == 'done'
    assert results.read_text() == good
    logs = {s: (run_dir / 'logs' / f'{s}.log').read_text().count('===') for s in
            ('train', 'test', 'macs')}
    assert logs == {'train': 1, 'test': 2, 'macs': 2}


def test_a_stage_finished_under_its_former_name_is_not_redone(grid_and_runs, tmp_path):
    """A run interrupted after its ``flops`` stage (now ``macs``) finishes without redoing it."""
    grid, runs = grid_and_runs
    run_dir = run_dir_of(tmp_path, runs['base'])
    execute_run(grid, runs['base'], str(run_dir))
    progress = json.loads((run_dir / 'progress.json').read_text())
    progress['flops'] = progress.pop('macs')
    (run_dir / 'progress.json').write_text(json.dumps(progress))
    (run_dir / DONE).unlink()
    assert execute_run(grid, runs['base'], str(run_dir)) == 'done'
    assert (run_dir / 'logs' / 'macs.log').read_text().count('===') == 1
    assert state(grid, run_dir).state == 'done'


def test_lock_excludes_a_second_runner_and_stale_locks_are_broken(grid_and_runs, tmp_path):
    grid, runs = grid_and_runs
    run_dir = run_dir_of(tmp_path, runs['base'])
    run_dir.mkdir(parents=True)
    holder = {'pid': os.getppid(), 'host': socket.gethostname(), 'since': 0}
    (run_dir / LOCK).write_text(json.dumps(holder))
    assert state(grid, run_dir).state == 'running'
    assert execute_run(grid, runs['base'], str(run_dir)) == 'skipped'
    assert not (run_dir / 'logs').exists()
    dead = 2 ** 22 + 12345   # above the default pid_max: never a live process
    (run_dir / LOCK).write_text(json.dumps(dict(holder, pid=dead)))
    assert state(grid, run_dir).state == 'pending'
    assert execute_run(grid, runs['base'], str(run_dir)) == 'done'
    assert not (run_dir / LOCK).exists()
    lock = RunLock(run_dir)
    assert lock.acquire() and not RunLock(run_dir).acquire()
    lock.release()


def test_slurm_parameters_carry_partition_gpus_and_time(monkeypatch, tmp_path):
    params = slurm_parameters('gpu', gpus=2, timeout_min=90, cpus=8)
    assert params == dict(partition='gpu', gpus_per_node=2, time=90, cpus_per_task=8,
                          ntasks_per_node=1, nodes=1)
    # SlurmExecutor refuses to start without srun; accept its parameters without a cluster.
    monkeypatch.setattr(submitit.SlurmExecutor, 'affinity', classmethod(lambda cls: 1))
    executor = make_executor('slurm', tmp_path, 90, 'gpu', 2, 8)
    assert executor.parameters['partition'] == 'gpu'
    assert executor.parameters['gpus_per_node'] == 2 and executor.parameters['time'] == 90



def test_a_run_with_a_checkpoint_but_not_done_is_partly_trained(grid_and_runs, tmp_path, capsys):
    grid, runs = grid_and_runs
    run_dir = run_dir_of(tmp_path, runs['base'])
    (run_dir / 'train').mkdir(parents=True)  # what a run killed after its 2nd step leaves
    (run_dir / 'train' / 'iter_2.json').write_text('{"step": 2, "value": 1}')
    (run_dir / 'train' / 'last_checkpoint').write_text(str(run_dir / 'train' / 'iter_2.json'))
    assert state(grid, run_dir) == RunState('partly trained', 'checkpoint iter_2.json')
    assert runs['base'] in select_runs(grid, list(runs.values()), tmp_path, False)
    main(['status', str(grid.path), '--work-root', str(tmp_path)])
    assert '1 partly trained, 2 pending' in capsys.readouterr().out


def job_process(grid, spec, run_dir) -> subprocess.Popen:
    """``execute_run`` in a process of its own, as a submitit job runs it; its training holds
    after step 2 (``fake_stage.HOLD``) until it is signalled or killed."""
    code = ('import sys; from ablations.grid import expand, load_grid; '
            'from ablations.runner import execute_run; '
            f'grid = load_grid({str(grid.path)!r}); '
            f'spec = next(s for s in expand(grid) if s.run_id == {spec.run_id!r}); '
            f'print(execute_run(grid, spec, {str(run_dir)!r}, "a1"), flush=True)')
    return subprocess.Popen([sys.executable, '-c', code], cwd=REPO_ROOT, text=True,
                            env={**os.environ, HOLD: '2'},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_until(condition, what: str, job=None, timeout: float = 300):
    """Wait for ``condition`` (``timeout``: a failure bound only, not a guess of the timing)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f'timed out waiting for {what}'
        assert job is None or job.poll() is None, job.communicate()
        time.sleep(0.05)


def held_stage(run_dir, job) -> int:
    """The pid of the run's training, once it holds after step 2."""
    wait_until((run_dir / 'train' / 'held').exists, 'the training to hold at step 2', job)
    return int((run_dir / 'train' / 'held').read_text())


@pytest.fixture
def slow_run(make_grid, tmp_path):
    grid = load_grid(str(make_grid(extra="cfg_options = {'iters': 100}\n")))
    spec = next(s for s in expand(grid) if s.run_id.startswith('base'))
    return grid, spec, run_dir_of(tmp_path / 'work', spec)


def test_sigterm_marks_the_run_interrupted_and_a_plain_rerun_resumes(slow_run):
    grid, spec, run_dir = slow_run
    (run_dir / FAILED).parent.mkdir(parents=True)
    (run_dir / FAILED).write_text('{"stage": "train", "tail": "an older failure"}')
    job = job_process(grid, spec, run_dir)
    held_stage(run_dir, job)
    job.send_signal(signal.SIGTERM)   # what scancel and preemption send
    assert job.communicate(timeout=60)[0].strip() == 'interrupted'
    marker = json.loads((run_dir / INTERRUPTED).read_text())
    assert marker['attempt'] == 'a1' and 'SIGTERM' in marker['reason']
    assert not (run_dir / FAILED).exists()
    assert state(grid, run_dir).state == 'interrupted'
    assert select_runs(grid, [spec], run_dir.parents[1], retry_failed=False) == [spec]


def test_stage_process_dies_with_its_job(slow_run):
    grid, spec, run_dir = slow_run
    job = job_process(grid, spec, run_dir)
    stage = held_stage(run_dir, job)
    job.kill()   # SIGKILL: the job cannot clean up, its stage must still stop
    job.wait()
    try:
        wait_until(lambda: not pid_alive(stage), 'the stage to die with its job')
    finally:
        if pid_alive(stage):
            os.kill(stage, signal.SIGKILL)
    assert sorted(p.name for p in (run_dir / 'train').glob('iter_*.json')) == \
        ['iter_1.json', 'iter_2.json']
    assert state(grid, run_dir).state == 'partly trained'   # the lock's pid is dead
