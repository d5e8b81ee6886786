"""Run a grid: one submitit job per run, each job running the run's stages in its directory."""
import subprocess
import time
import traceback
from pathlib import Path

import submitit

from ablations.rundir import (
    DONE,
    FAILED,
    PROGRESS,
    RUN_JSON,
    RunLock,
    forget_stage,
    read_json,
    record_stage,
    run_state,
)
from ablations.spec import REPO_ROOT, Grid, RunSpec
from ablations.stages import StageError, grid_stages, outputs_problem, prepare_resume, stage_argv
from danet.utils.fileio import atomic_write_json

WORK_ROOT = REPO_ROOT / 'work_dirs' / 'ablations'
LOG_TAIL_LINES = 25


def run_dir_of(work_root: Path, spec: RunSpec) -> Path:
    return Path(work_root) / spec.grid / spec.run_id


def write_run_json(run_dir: Path, spec: RunSpec) -> None:
    """Record the run's metadata once: an existing run.json keeps its fields and only gains the
    ones it lacks (added to the format since it was written, e.g. ``base_axes``)."""
    old, new = read_json(run_dir / RUN_JSON), spec.to_json()
    if old is None or not set(new) <= set(old):
        atomic_write_json(run_dir / RUN_JSON, {**new, **(old or {})})


def execute_run(grid: Grid, spec: RunSpec, run_dir: str) -> str:
    """The job function: run the stages not yet finished, then mark the run done.

    Returns ``done``, ``failed`` or ``skipped`` (another process holds the run's lock). Once a
    stage runs, every later stage runs again too.
    """
    run_dir = Path(run_dir)
    lock = RunLock(run_dir)
    if not lock.acquire():
        return 'skipped'
    stage = None
    try:
        (run_dir / DONE).unlink(missing_ok=True)
        finished = read_json(run_dir / PROGRESS) or {}
        rerun = False
        for stage in grid_stages(grid, spec):
            name = stage['name']
            if not rerun and name in finished and \
                    outputs_problem(stage, run_dir, grid.testsets) is None:
                continue
            rerun = True
            forget_stage(run_dir, name)
            started = time.time()
            _run_stage(stage, spec, grid, run_dir)
            record_stage(run_dir, name, started, time.time())
        stage = None
        (run_dir / FAILED).unlink(missing_ok=True)
        atomic_write_json(run_dir / DONE, {'run_id': spec.run_id, 'finished': time.time(),
                                           'stages': read_json(run_dir / PROGRESS)})
        return 'done'
    except Exception:
        log = run_dir / 'logs' / f'{stage["name"]}.log' if stage else None
        atomic_write_json(run_dir / FAILED, {
            'run_id': spec.run_id, 'stage': stage and stage['name'], 'time': time.time(),
            'traceback': traceback.format_exc(), 'log': str(log) if log else None,
            'tail': _tail(log) if log else traceback.format_exc()})
        return 'failed'
    finally:
        lock.release()


def _run_stage(stage: dict, spec: RunSpec, grid: Grid, run_dir: Path) -> None:
    resume_args = prepare_resume(stage, run_dir)
    argv = stage_argv(stage, spec, grid, run_dir, resume_args)
    log_path = run_dir / 'logs' / f'{stage["name"]}.log'
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, 'a') as log:
        log.write(f'\n=== {time.strftime("%Y-%m-%d %H:%M:%S")} $ {" ".join(argv)}\n')
        log.flush()
        code = subprocess.run(argv, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise StageError(f'stage {stage["name"]!r} exited with code {code}; log: {log_path}')
    problem = outputs_problem(stage, run_dir, grid.testsets)
    if problem:
        raise StageError(f'stage {stage["name"]!r} finished but an output is bad: {problem}')


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return '\n'.join(path.read_text(errors='replace').splitlines()[-lines:])
    except FileNotFoundError:
        return ''


def slurm_parameters(partition: str | None, gpus: int, timeout_min: int, cpus: int) -> dict:
    """``SlurmExecutor.update_parameters`` arguments for one single-task run."""
    params = dict(gpus_per_node=gpus, time=timeout_min, cpus_per_task=cpus, ntasks_per_node=1,
                  nodes=1)
    if partition:
        params['partition'] = partition
    return params


def make_executor(kind: str, folder: Path, timeout_min: int, partition: str | None = None,
                  gpus: int = 0, cpus: int = 4) -> submitit.Executor:
    """A submitit ``LocalExecutor`` or ``SlurmExecutor`` writing its job files under ``folder``."""
    if kind == 'local':
        executor = submitit.LocalExecutor(folder=folder)
        executor.update_parameters(timeout_min=timeout_min, gpus_per_node=gpus)
    elif kind == 'slurm':
        executor = submitit.SlurmExecutor(folder=folder)
        executor.update_parameters(**slurm_parameters(partition, gpus, timeout_min, cpus))
    else:
        raise ValueError(f'executor {kind!r}: expected local or slurm')
    return executor


def select_runs(grid: Grid, specs: list[RunSpec], work_root: Path,
                retry_failed: bool) -> list[RunSpec]:
    """Runs to dispatch: pending and corrupt ones, failed ones with ``retry_failed``."""
    wanted = {'pending', 'corrupt'} | ({'failed'} if retry_failed else set())
    return [s for s in specs if run_state(run_dir_of(work_root, s), grid_stages(grid, s),
                                          grid.testsets).state in wanted]


def dispatch(grid: Grid, specs: list[RunSpec], work_root: Path, executor: submitit.Executor,
             max_parallel: int, poll_s: float = 0.5) -> dict[str, str]:
    """Submit the runs, at most ``max_parallel`` at a time; print each outcome as it lands."""
    queue, running, outcomes = list(specs), {}, {}
    start = time.time()
    while queue or running:
        while queue and len(running) < max_parallel:
            spec = queue.pop(0)
            run_dir = run_dir_of(work_root, spec)
            write_run_json(run_dir, spec)
            running[spec.run_id] = executor.submit(execute_run, grid, spec, str(run_dir))
        for run_id, job in list(running.items()):
            if not job.done():
                continue
            try:
                outcomes[run_id] = job.result()
            except Exception as err:   # the job process itself died (killed, out of memory)
                outcomes[run_id] = f'job error: {str(err).splitlines()[0]}'
            del running[run_id]
            print(f'[{len(outcomes)}/{len(specs)}] {run_id}: {outcomes[run_id]} '
                  f'({time.time() - start:.0f}s elapsed)', flush=True)
        if running:
            time.sleep(poll_s)
    return outcomes
