"""The stages of one run as data: commands with placeholders, expected outputs, resume rules.

A stage is ``dict(name, argv, outputs, resume=None)``. ``argv`` items are formatted with
``{python} {base} {run_dir} {seed} {checkpoint}``; the items ``{cfg_options}``,
``{flops_shape}``, ``{testsets}`` (the grid's test sets) and ``{resume}`` expand to several
arguments (or none). ``outputs`` are paths relative to the run dir (``{testset}`` expands once
per test set) that must be valid for the stage to count as finished.
``resume=dict(when=PATH, argv=[...], fresh_clears=DIR)``: if ``PATH`` exists the stage restarts
with ``argv`` for ``{resume}``; otherwise ``DIR`` (a partial attempt with nothing to resume from)
is removed first. ``{checkpoint}`` is the cell's ``checkpoint`` (evaluate-only runs, whose
training stages are skipped) or else the one the train stage left.
"""
import json
import shutil
import sys
from pathlib import Path

from ablations.spec import Grid, RunSpec, cfg_option_args
from danet.evaluation.results import ResultsError, read_results

DEFAULT_STAGES = [
    dict(name='train',
         argv=['{python}', 'tools/train.py', '{base}', '--work-dir', '{run_dir}/train', '{resume}',
               '--cfg-options', '{cfg_options}'],
         outputs=['train/last_checkpoint'],
         resume=dict(when='train/last_checkpoint', argv=['--resume'], fresh_clears='train')),
    dict(name='test',
         argv=['{python}', 'tools/test.py', '{base}', '{checkpoint}', '--work-dir', '{run_dir}',
               '--testsets', '{testsets}', '--cfg-options', '{cfg_options}'],
         outputs=['results/{testset}.json']),
    dict(name='flops',
         argv=['{python}', 'tools/count_flops.py', '{base}', '--shape', '{flops_shape}',
               '--out', '{run_dir}/complexity.json', '--cfg-options', '{cfg_options}'],
         outputs=['complexity.json']),
]
CHECKPOINT_POINTER = 'train/last_checkpoint'


class StageError(RuntimeError):
    """A stage that cannot start or whose outputs are missing or invalid."""


def grid_stages(grid: Grid, spec: RunSpec | None = None) -> list[dict]:
    """The grid's stages; a run whose cell gives a ``checkpoint`` (evaluate-only) skips the
    stages marked ``trains=True`` (the default ``train``)."""
    stages = grid.stages if grid.stages is not None else DEFAULT_STAGES
    if spec is not None and spec.checkpoint:
        stages = [s for s in stages if not s.get('trains', s['name'] == 'train')]
    return stages


def stage_outputs(stage: dict, testsets: list[str]) -> list[str]:
    """The stage's output paths relative to the run dir."""
    return [pattern.format(testset=t) if '{testset}' in pattern else pattern
            for pattern in stage['outputs']
            for t in (testsets if '{testset}' in pattern else [None])]


def output_problem(path: Path) -> str | None:
    """Why ``path`` is not a usable output, or None. Results files are schema-checked."""
    if not path.is_file() or path.stat().st_size == 0:
        return f'{path}: missing or empty'
    if path.parent.name == 'results' and path.suffix == '.json':
        try:
            read_results(path)
        except ResultsError as err:
            return str(err)
    elif path.suffix == '.json':
        try:
            json.loads(path.read_text())
        except json.JSONDecodeError as err:
            return f'{path}: not valid JSON ({err})'
    return None


def outputs_problem(stage: dict, run_dir: Path, testsets: list[str]) -> str | None:
    for rel in stage_outputs(stage, testsets):
        problem = output_problem(run_dir / rel)
        if problem:
            return problem
    return None


def prepare_resume(stage: dict, run_dir: Path) -> list[str]:
    """Arguments for ``{resume}``; removes a partial attempt that has nothing to resume from."""
    rule = stage.get('resume')
    if not rule:
        return []
    if (run_dir / rule['when']).exists():
        return list(rule['argv'])
    partial = run_dir / rule['fresh_clears']
    if partial.exists():
        shutil.rmtree(partial)
    return []


def stage_argv(stage: dict, spec: RunSpec, grid: Grid, run_dir: Path,
               resume_args: list[str]) -> list[str]:
    """The stage's command with every placeholder filled."""
    lists = {'{cfg_options}': cfg_option_args(spec.overrides),
             '{flops_shape}': [str(n) for n in grid.flops_shape],
             '{testsets}': list(grid.testsets),
             '{resume}': resume_args}
    fields = dict(python=sys.executable, base=spec.base, run_dir=str(run_dir), seed=spec.seed)
    argv = []
    for item in stage['argv']:
        if item in lists:
            argv.extend(lists[item])
            continue
        if '{checkpoint}' in item:
            fields['checkpoint'] = spec.checkpoint or read_checkpoint_pointer(run_dir)
        try:
            argv.append(item.format(**fields))
        except KeyError as err:
            raise StageError(f'stage {stage["name"]!r}: unknown placeholder {err} in {item!r}') \
                from None
    return argv


def read_checkpoint_pointer(run_dir: Path) -> str:
    pointer = run_dir / CHECKPOINT_POINTER
    if not pointer.is_file():
        raise StageError(f'{pointer}: not found; training did not leave a checkpoint')
    return pointer.read_text().strip()
