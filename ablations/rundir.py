"""A run directory's bookkeeping: metadata, per-stage progress, markers, lock and state.

Files (all written atomically): ``run.json`` (written when the run is planned), ``progress.json``
(finished stages with timings), ``DONE.json`` (written last: the run is complete),
``FAILED.json`` (traceback tail of the last failure), ``INTERRUPTED.json`` (the last attempt was
stopped by a signal or its job died without a result), ``.lock`` (pid + host of the runner
working on it), ``logs/<stage>.log``. Beside the run folders, ``GRID.json`` (``write_grid_index``)
lists the run ids the grid file has now: ``analysis`` leaves out the other folders and
``ablations prune`` removes them.
"""
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from ablations.stages import finished_as, outputs_problem
from danet.utils.fileio import atomic_write_json
from danet.utils.run_lock import RunLock

RUN_JSON, PROGRESS, DONE, FAILED = 'run.json', 'progress.json', 'DONE.json', 'FAILED.json'
INTERRUPTED = 'INTERRUPTED.json'
GRID_INDEX = 'GRID.json'
STATES = ('done', 'running', 'failed', 'interrupted', 'corrupt', 'partly trained', 'pending')
TRAIN_DIR = 'train'


def read_json(path: Path) -> dict | None:
    """The JSON object in ``path``, or None when it is absent or unreadable."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


@dataclass
class RunState:
    state: str
    detail: str = ''


def run_state(run_dir: Path, stages: list[dict], testsets: list[str]) -> RunState:
    """``done`` (DONE.json and every output valid), ``corrupt`` (DONE.json but an output is bad),
    ``running`` (live lock), ``failed`` (FAILED.json), ``interrupted`` (INTERRUPTED.json: stopped
    by a signal or died without a result; a plain rerun resumes it), ``partly trained`` (a
    training checkpoint, nothing else) or ``pending``."""
    holder = RunLock(run_dir).holder()
    if holder is not None:
        stage, epoch = current_stage(run_dir, stages), train_progress(run_dir)
        return RunState('running', f'pid {holder["pid"]} on {holder["host"]}, stage {stage}'
                        + (f', {epoch}' if epoch else ''))
    if (run_dir / DONE).exists():
        for stage in stages:
            problem = outputs_problem(stage, run_dir, testsets)
            if problem:
                return RunState('corrupt', problem)
        return RunState('done')
    failed = read_json(run_dir / FAILED)
    if failed is not None:
        return RunState('failed', f'stage {failed.get("stage")}:\n{failed.get("tail", "")}')
    interrupted = read_json(run_dir / INTERRUPTED)
    if interrupted is not None:
        return RunState('interrupted', interrupted.get('reason', ''))
    if (run_dir / TRAIN_DIR / 'last_checkpoint').is_file():
        return RunState('partly trained', train_progress(run_dir))
    finished = list(read_json(run_dir / PROGRESS) or {})
    return RunState('pending', f'finished stages: {", ".join(finished)}' if finished else '')


def write_grid_index(grid_dir: Path, grid_name: str, grid_path: Path, run_ids: list[str]) -> None:
    """``GRID_INDEX`` in ``grid_dir`` (the grid's folder of runs, when it exists): the run ids of
    the grid file as it is now."""
    if Path(grid_dir).is_dir():
        atomic_write_json(Path(grid_dir) / GRID_INDEX, {'grid': grid_name, 'path': str(grid_path),
                                                        'run_ids': list(run_ids),
                                                        'written': time.time()})


def train_progress(run_dir: Path) -> str:
    """``epoch k/N`` of the run's training (from its logged scalars and ``config.py``), else
    its last checkpoint's name, else ''."""
    train = Path(run_dir) / TRAIN_DIR
    epochs = []
    scalars = train / 'logs' / 'vis_data' / 'scalars.json'
    for line in scalars.read_text().splitlines() if scalars.is_file() else []:
        try:
            epochs.append(json.loads(line)['epoch'])
        except (json.JSONDecodeError, KeyError, TypeError):  # validation rows, a partial line
            pass
    if epochs:
        match = re.search(r'max_epochs=(\d+)', _read(train / 'config.py'))
        return f'epoch {epochs[-1]}' + (f'/{match.group(1)}' if match else '')
    pointer = _read(train / 'last_checkpoint').strip()
    return f'checkpoint {Path(pointer).name}' if pointer else ''


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except (FileNotFoundError, UnicodeDecodeError):
        return ''


def current_stage(run_dir: Path, stages: list[dict]) -> str:
    finished = read_json(run_dir / PROGRESS) or {}
    return next((s['name'] for s in stages if not finished_as(s, finished)), 'finishing')


def record_stage(run_dir: Path, name: str, started: float, finished: float) -> None:
    progress = read_json(run_dir / PROGRESS) or {}
    progress[name] = {'started': started, 'finished': finished,
                      'seconds': round(finished - started, 3)}
    atomic_write_json(run_dir / PROGRESS, progress)


def forget_stage(run_dir: Path, name: str) -> None:
    progress = read_json(run_dir / PROGRESS) or {}
    if progress.pop(name, None) is not None:
        atomic_write_json(run_dir / PROGRESS, progress)
