"""Run a grid: one submitit job per run, each job running the run's stages in its directory."""
import ctypes
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

import submitit
from submitit.core.utils import UncompletedJobError

from ablations.rundir import (
    DONE,
    FAILED,
    INTERRUPTED,
    PROGRESS,
    RUN_JSON,
    forget_stage,
    read_json,
    record_stage,
    run_state,
    train_progress,
)
from ablations.slurm import ACTIVE, NEVER_RUNS, SlurmQueue
from ablations.spec import REPO_ROOT, Grid, RunSpec
from ablations.stages import (
    StageError,
    finished_as,
    grid_stages,
    outputs_problem,
    prepare_resume,
    stage_argv,
)
from danet.utils.fileio import atomic_write_json
from danet.utils.run_lock import RunLock

WORK_ROOT = REPO_ROOT / 'work_dirs' / 'ablations'
LOG_TAIL_LINES = 25
PR_SET_PDEATHSIG = 1
DEAD_GRACE_S = 10.0   # a job Slurm says ended gets this long to leave its marker


def run_dir_of(work_root: Path, spec: RunSpec) -> Path:
    return Path(work_root) / spec.grid / spec.run_id


def write_run_json(run_dir: Path, spec: RunSpec) -> None:
    """Record the run's metadata once: an existing run.json keeps its fields and only gains the
    ones it lacks (added to the format since it was written, e.g. ``base_axes``)."""
    old, new = read_json(run_dir / RUN_JSON), spec.to_json()
    if old is None or not set(new) <= set(old):
        atomic_write_json(run_dir / RUN_JSON, {**new, **(old or {})})


class Interrupted(BaseException):
    """The job was told to stop (``scancel``, preemption, Ctrl-C): not a failure of the run."""


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _raise_interrupted(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def execute_run(grid: Grid, spec: RunSpec, run_dir: str, attempt: str = '') -> str:
    """The job function: run the stages not yet finished, then mark the run done.

    Returns ``done``, ``failed``, ``interrupted`` (SIGTERM/SIGINT: ``scancel``, preemption; the
    time limit) or ``skipped`` (another process holds the run's lock); the first three are also
    written as DONE/FAILED/INTERRUPTED.json carrying ``attempt``, which is how the runner learns
    them.
    Once a stage runs, every later stage runs again too.
    """
    run_dir = Path(run_dir)
    lock = RunLock(run_dir)
    if not lock.acquire():
        return 'skipped'
    stage = None
    handlers = {sig: signal.signal(sig, _raise_interrupted) for sig in STOP_SIGNALS} \
        if threading.current_thread() is threading.main_thread() else {}
    try:
        (run_dir / DONE).unlink(missing_ok=True)
        (run_dir / INTERRUPTED).unlink(missing_ok=True)
        finished = read_json(run_dir / PROGRESS) or {}
        rerun = False
        for stage in grid_stages(grid, spec):
            name = stage['name']
            if not rerun and finished_as(stage, finished) and \
                    outputs_problem(stage, run_dir, grid.testsets) is None:
                continue
            rerun = True
            for former in (name, *stage.get('formerly', ())):
                forget_stage(run_dir, former)
            started = time.time()
            _run_stage(stage, spec, grid, run_dir)
            record_stage(run_dir, name, started, time.time())
        stage = None
        (run_dir / FAILED).unlink(missing_ok=True)
        atomic_write_json(run_dir / DONE, {'run_id': spec.run_id, 'finished': time.time(),
                                           'stages': read_json(run_dir / PROGRESS),
                                           'attempt': attempt})
        return 'done'
    except (Interrupted, UncompletedJobError) as why:   # the latter: submitit at the time limit
        mark_interrupted(run_dir, spec.run_id, attempt,
                         f'{why} during stage {stage and stage["name"]}')
        return 'interrupted'
    except Exception:
        log = run_dir / 'logs' / f'{stage["name"]}.log' if stage else None
        atomic_write_json(run_dir / FAILED, {
            'run_id': spec.run_id, 'stage': stage and stage['name'], 'time': time.time(),
            'traceback': traceback.format_exc(), 'log': str(log) if log else None,
            'tail': _tail(log) if log else traceback.format_exc(), 'attempt': attempt})
        return 'failed'
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        lock.release()


def mark_interrupted(run_dir: Path, run_id: str, attempt: str, reason: str) -> None:
    """INTERRUPTED.json: the latest attempt stopped without failing; a plain rerun resumes it."""
    atomic_write_json(run_dir / INTERRUPTED, {'run_id': run_id, 'time': time.time(),
                                              'reason': reason, 'attempt': attempt})
    (run_dir / FAILED).unlink(missing_ok=True)


def _die_with_parent() -> None:
    """In the stage process: SIGKILL when the job process dies, even by SIGKILL (Linux), so
    no stage outlives its job whatever the cluster's process tracking."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _run_stage(stage: dict, spec: RunSpec, grid: Grid, run_dir: Path) -> None:
    resume_args = prepare_resume(stage, run_dir)
    argv = stage_argv(stage, spec, grid, run_dir, resume_args)
    log_path = run_dir / 'logs' / f'{stage["name"]}.log'
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, 'a') as log:
        log.write(f'\n=== {time.strftime("%Y-%m-%d %H:%M:%S")} $ {" ".join(argv)}\n')
        log.flush()
        # subprocess.run kills the stage when Interrupted is raised while it waits
        code = subprocess.run(argv, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                              preexec_fn=_die_with_parent if sys.platform == 'linux' else None
                              ).returncode
    if -code in STOP_SIGNALS:   # the signal reached the stage first (Slurm signals every process)
        raise Interrupted(f'stage {stage["name"]!r} got {signal.Signals(-code).name}')
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
    """Runs to dispatch: pending, partly trained, interrupted and corrupt ones, failed ones
    with ``retry_failed``."""
    wanted = {'pending', 'partly trained', 'interrupted', 'corrupt'} | \
        ({'failed'} if retry_failed else set())
    return [s for s in specs if run_state(run_dir_of(work_root, s), grid_stages(grid, s),
                                          grid.testsets).state in wanted]


@dataclass
class Submitted:
    spec: RunSpec
    run_dir: Path
    attempt: str
    job: submitit.Job
    ended_at: float | None = None   # when the scheduler first said the job was over


def marker_outcome(run_dir: Path, attempt: str) -> tuple[str, str] | None:
    """``(outcome, detail)`` from the marker this attempt's job wrote, or None yet."""
    for name, outcome in ((DONE, 'done'), (FAILED, 'failed'), (INTERRUPTED, 'interrupted')):
        marker = read_json(run_dir / name)
        if marker is not None and marker.get('attempt') == attempt:
            return outcome, marker.get('reason') or (f'stage {marker["stage"]}'
                                                     if outcome == 'failed' else '')
    return None


def job_outcome(sub: Submitted, queue_state: tuple[str, str] | None,
                grace_s: float) -> tuple[str, str] | None:
    """The run's outcome once known: first the run dir's markers, then submitit's result, then,
    for a job the scheduler says is over (or can never start), ``interrupted``."""
    known = marker_outcome(sub.run_dir, sub.attempt)
    if known:
        return known
    if sub.job.paths.result_pickle.exists() if queue_state else sub.job.done():
        try:
            return sub.job.result(), ''
        except Exception as err:   # the job process itself died (killed, out of memory)
            return 'interrupted', f'job error: {str(err).splitlines()[0]}'
    if queue_state is None:
        return None
    state, reason = queue_state
    if state == 'PENDING' and reason in NEVER_RUNS:
        sub.job.cancel(check=False)
        return 'interrupted', f'Slurm job {sub.job.job_id} can never start ({reason}); cancelled'
    if state in ACTIVE:
        sub.ended_at = None
        return None
    sub.ended_at = sub.ended_at or time.time()
    if time.time() - sub.ended_at < grace_s:
        return None
    return 'interrupted', (f'Slurm job {sub.job.job_id} ended ({state}) without a result '
                           f'(killed? out of memory?); see {sub.job.paths.stderr}')


def dispatch(grid: Grid, specs: list[RunSpec], work_root: Path, executor: submitit.Executor,
             max_parallel: int, poll_s: float = 0.5,
             grace_s: float = DEAD_GRACE_S, progress_s: float = 30) -> dict[str, str]:
    """Submit the runs, at most ``max_parallel`` at a time; print each outcome as it lands and,
    every ``progress_s`` seconds while it changes, the training epoch of each running run.
    Leaving early (Ctrl-C, SIGTERM, an error) cancels the jobs still queued or running."""
    queue, running, outcomes = list(specs), {}, {}
    slurm_queue = SlurmQueue() if isinstance(executor, submitit.SlurmExecutor) else None
    start = last_report = time.time()
    reported = ''
    try:
        while queue or running:
            while queue and len(running) < max_parallel:
                spec = queue.pop(0)
                run_dir = run_dir_of(work_root, spec)
                write_run_json(run_dir, spec)
                attempt = uuid.uuid4().hex
                job = executor.submit(execute_run, grid, spec, str(run_dir), attempt)
                running[spec.run_id] = Submitted(spec, run_dir, attempt, job)
            states = slurm_queue.states([s.job.job_id for s in running.values()]) \
                if slurm_queue else None
            for run_id, sub in list(running.items()):
                known = job_outcome(sub, None if states is None else states[sub.job.job_id],
                                    grace_s)
                if known is None:
                    continue
                outcome, detail = known
                if outcome == 'interrupted' and marker_outcome(sub.run_dir, sub.attempt) is None \
                        and RunLock(sub.run_dir).holder() is None:
                    mark_interrupted(sub.run_dir, run_id, sub.attempt, detail)
                outcomes[run_id] = outcome
                del running[run_id]
                print(f'[{len(outcomes)}/{len(specs)}] {run_id}: {outcome}'
                      f'{" (" + detail + ")" if detail and outcome != "done" else ""} '
                      f'({time.time() - start:.0f}s elapsed)', flush=True)
            if running and time.time() - last_report >= progress_s:
                last_report = time.time()
                line = ', '.join(f'{run_id} {train_progress(sub.run_dir) or "starting"}'
                                 for run_id, sub in running.items())
                if line != reported:
                    print(f'  {time.time() - start:.0f}s: {line}', flush=True)
                    reported = line
            if running:
                time.sleep(poll_s)
    finally:
        if running:
            for sub in running.values():
                sub.job.cancel(check=False)
            print(f'cancelled {len(running)} queued or running jobs '
                  f'({", ".join(s.job.job_id for s in running.values())}); '
                  'a plain rerun resumes them', flush=True)
    return outcomes
