"""The job function and run states, driven by fake stages (no submitit, no training)."""
import json
import os
import socket

import pytest
import submitit

from ablations.__main__ import main
from ablations.grid import expand, load_grid
from ablations.rundir import DONE, FAILED, LOCK, RunLock, RunState, run_state
from ablations.runner import execute_run, make_executor, run_dir_of, select_runs, slurm_parameters
from ablations.stages import grid_stages


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
    assert list(done['stages']) == ['train', 'test', 'flops']
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
            ('train', 'test', 'flops')}
    assert logs == {'train': 1, 'test': 2, 'flops': 2}


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
