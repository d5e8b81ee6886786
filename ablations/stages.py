"""The stages of one run as data: commands with placeholders, expected outputs, resume rules.

Grid files name their stages (``stages = ['test']``: keys of ``STAGES``); a stage is
``dict(name, argv, outputs, resume=None, formerly=())``, and a grid may also give its own dicts
(tests do). ``argv`` items are formatted with
``{python} {base} {run_dir} {seed} {checkpoint}``; the items ``{cfg_options}``,
``{macs_shape}``, ``{testsets}`` (the grid's test sets, ``NAME=PATH`` ones as given) and
``{resume}`` expand to several arguments (or none). ``outputs`` are paths relative to the run
dir (``{testset}`` expands once per test set) that must be valid for the stage to count as
finished.
``resume=dict(when=PATH, argv=[...], fresh_clears=DIR)``: if ``PATH`` exists the stage restarts
with ``argv`` for ``{resume}``; otherwise ``DIR`` (a partial attempt with nothing to resume from)
is removed first. ``{checkpoint}`` is the cell's ``checkpoint`` (evaluate-only runs, whose
training stages are skipped) or else the one the train stage left. ``formerly``: names the
stage had before (``macs`` was ``flops``); runs that finished it under such a name count it done.
"""
import json
import shutil
import sys
from pathlib import Path

from ablations.spec import Grid, RunSpec, cfg_option_args
from danet.evaluation.results import ResultsError, read_results

_TEST_ARGV = ['{python}', '-m', 'danet', 'test', '{base}', '{checkpoint}', '--work-dir',
              '{run_dir}', '--testsets', '{testsets}']
STAGES = {
    'train': dict(name='train',
                  argv=['{python}', '-m', 'danet', 'train', '{base}', '--work-dir',
                        '{run_dir}/train', '{resume}', '--cfg-options', '{cfg_options}'],
                  outputs=['train/last_checkpoint'],
                  resume=dict(when='train/last_checkpoint', argv=['--resume'],
                              fresh_clears='train')),
    'test': dict(name='test', argv=[*_TEST_ARGV, '--cfg-options', '{cfg_options}'],
                 outputs=['results/{testset}.json']),
    # test with --save-images (the report's comparison figure); ``python -m danet test`` also
    # writes complexity.json at 3x256x256, so such grids need no separate macs stage
    'test_images': dict(name='test_images',
                        argv=[*_TEST_ARGV, '--save-images', '--cfg-options', '{cfg_options}'],
                        outputs=['results/{testset}.json', 'complexity.json']),
    'macs': dict(name='macs',
                 argv=['{python}', '-m', 'danet', 'count-macs', '{base}', '--shape',
                       '{macs_shape}', '--out', '{run_dir}/complexity.json', '--cfg-options',
                       '{cfg_options}'],
                 outputs=['complexity.json'], formerly=('flops',)),
}
DEFAULT_STAGES = ('train', 'test', 'macs')
CHECKPOINT_POINTER = 'train/last_checkpoint'


class StageError(RuntimeError):
    """A stage that cannot start or whose outputs are missing or invalid."""


def resolve_stages(stages) -> list[dict]:
    """Stage names (keys of ``STAGES``) or stage dicts -> stage dicts.

    Raises ``StageError`` naming an unknown stage and the known ones."""
    found = []
    for stage in stages:
        if isinstance(stage, dict):
            found.append(stage)
        elif stage in STAGES:
            found.append(STAGES[stage])
        else:
            raise StageError(f'unknown stage {stage!r}; known stages: {", ".join(STAGES)} '
                             f'(or a stage dict, see ablations/stages.py)')
    return found


def grid_stages(grid: Grid, spec: RunSpec | None = None) -> list[dict]:
    """The grid's stages; a run whose cell gives a ``checkpoint`` (evaluate-only) skips the
    stages marked ``trains=True`` (the default ``train``)."""
    stages = resolve_stages(grid.stages if grid.stages is not None else DEFAULT_STAGES)
    if spec is not None and spec.checkpoint:
        stages = [s for s in stages if not s.get('trains', s['name'] == 'train')]
    return stages


def finished_as(stage: dict, finished: dict) -> str | None:
    """The name under which ``finished`` (``progress.json``) records the stage, or None: its
    name, else a former one (``formerly``: a run finished before a rename is not redone)."""
    return next((n for n in (stage['name'], *stage.get('formerly', ())) if n in finished), None)


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
             '{macs_shape}': [str(n) for n in grid.macs_shape],
             '{testsets}': grid.testset_args(),
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
