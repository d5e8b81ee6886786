"""The README demo (``make demo``; ``python -m ablations.demo``, ``tools/demo.py`` its shim): a
complexity table, then for each task (derain, dehaze, lowlight) data synthesised over
scikit-image's photographs and a tiny DANet grid, and one report over the three grids.

Every step runs the platform's own commands as subprocesses, by module name (``python -m danet``,
``data_tools``, ``ablations``, ``analysis``), and is skipped when its output already exists, so
re-running resumes (the grid runner keeps finished runs). Folders are built under a ``.partial``
name and renamed into place; ``pack`` and the report write atomically themselves. The test set is
3 photographs held out of training by image (the motorcycle stereo pair and the astronaut), so no
background is seen in both. docs/demo.md has the timings.

Each task's degraded test images are scored against their ground truths (``python -m danet
eval-folder`` into ``rainy_input/``, ``hazy_input/``, ``low_input/``): the report's reference
rows ``Rainy input``, ``Hazy input``, ``Low-light input``.
"""
import argparse
import runpy
import shlex
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ablations.spec import REPO_ROOT as ROOT
from danet.datasets.image_files import INPUT_NAMES
from danet.utils.cli import run_main

DEFAULT_WORK = ROOT / 'work_dirs' / 'demo'
TEST_PHOTOS = ('astronaut', 'motorcycle_left', 'motorcycle_right')
SPLITS = ('trainval', 'test')
PARALLEL = 2
STEPS = 7
COMPLEXITY_VARIANTS = [
    ['--variant', 'w/o ALM', 'model.generator.alm.type=PlainALM'],
    ['--variant', 'parameter-free mask', 'model.generator.alm.mask.type=RainMagnitudeMask'],
    ['--variant', 'w/o sampling space', 'model.generator.sampling.type=NoSampling'],
]


@dataclass(frozen=True)
class Task:
    """One task of the demo: its grid file (in ``ablations/``) and the folder ``data_tools synth``
    writes the degraded images to (its reference row is named by ``INPUT_NAMES``)."""

    grid: str
    folder: str


TASKS = {'derain': Task('demo_tiny.py', 'rainy'), 'dehaze': Task('demo_dehaze.py', 'hazy'),
         'lowlight': Task('demo_lowlight.py', 'low')}


@dataclass(frozen=True)
class Size:
    """How big the demo is: photo size, complexity shape and variants, and the grid cut-downs
    (``None`` keeps the grid file's value; ``axes`` keeps the first N axes of each task's grid)."""

    photo_size: int
    flops_shape: tuple
    variants: list
    axes: dict | None = None
    epochs: int | None = None
    seeds: list | None = None


FULL = Size(512, (3, 256, 256), COMPLEXITY_VARIANTS)
QUICK = Size(128, (3, 64, 64), COMPLEXITY_VARIANTS[:1], axes={'derain': 1, 'dehaze': 0,
              'lowlight': 0}, epochs=3, seeds=[0])   # tests: 4 runs


def sh(*argv) -> None:
    """Run a command from the repository root, its progress streaming; stop the demo if it fails."""
    argv = [str(a) for a in argv]
    print('    $ ' + shlex.join(argv), flush=True)
    code = subprocess.run(argv, cwd=ROOT).returncode
    if code:
        sys.exit(f'demo: command failed with exit code {code}; re-run to resume')


@contextmanager
def into_place(out: Path):
    """Yield a fresh temporary sibling of ``out``, renamed to ``out`` when the block succeeds."""
    tmp = out.with_name(out.name + '.partial')
    shutil.rmtree(tmp, ignore_errors=True)
    yield tmp
    tmp.rename(out)


def step(number: int, title: str, done: list[Path], build) -> None:
    """Print the step's header; call ``build()`` unless ``done`` lists paths that all exist."""
    print(f'\n=== [{number}/{STEPS}] {title}', flush=True)
    if done and all(p.exists() for p in done):
        print('    already done, skipping: ' + ', '.join(p.name for p in done), flush=True)
        return
    start = time.monotonic()
    build()
    print(f'    step {number} done in {time.monotonic() - start:.0f} s', flush=True)


def grid_file(task: str, work: Path, size: Size) -> tuple[Path, dict]:
    """The grid to run for ``task`` and its contents: the grid file itself for the default demo,
    otherwise a copy written into ``work`` that reads ``work``'s data (and, quick, is smaller)."""
    source = ROOT / 'ablations' / TASKS[task].grid
    grid = {k: v for k, v in runpy.run_path(str(source)).items() if not k.startswith('_')}
    if work == DEFAULT_WORK and size == FULL:
        return source, grid
    data = work / 'data' / task
    grid['cfg_options'] = {**grid['cfg_options'],
                           'train_dataloader.dataset.ann_file': str(data / 'trainval.h5'),
                           'val_dataloader.dataset.ann_file': str(data / 'trainval.h5'),
                           'test_dataloader.0.dataset.ann_file': str(data / 'test.h5')}
    if size.axes is not None:
        grid['axes'] = dict(list(grid['axes'].items())[:size.axes[task]])
        for name in ('base_labels', 'axis_names'):   # may name only axes that are kept
            grid[name] = {k: v for k, v in grid.get(name, {}).items() if k in grid['axes']}
    if size.seeds is not None:
        grid['seeds'] = size.seeds
    if size.epochs is not None:
        grid['cfg_options'].update({key: size.epochs for key in (
            'train_cfg.max_epochs', 'train_cfg.val_interval', 'param_scheduler.0.T_max',
            'default_hooks.checkpoint.interval')})
    path = work / source.name
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(f'"""Written by the demo (ablations/demo.py) from ablations/{source.name}."""\n'
                   + ''.join(f'{key} = {value!r}\n' for key, value in grid.items()))
    tmp.replace(path)
    return path, grid


def run_grid(path: Path, runs: Path) -> None:
    """``python -m ablations run``; it prints each run's epoch every 10 s while it changes."""
    argv = [sys.executable, '-m', 'ablations', 'run', str(path), '--work-root', str(runs),
            '--max-parallel', str(PARALLEL), '--progress-every', '10']
    print('    $ ' + shlex.join(argv), flush=True)
    code = subprocess.run(argv, cwd=ROOT).returncode
    if code:
        sys.exit(f'demo: the grid failed (exit code {code}); see its FAILED.json '
                 f'files under {runs / path.stem}; re-run with the same command to resume')


def split_photos(data: Path, size: Size, py: str) -> None:
    """scikit-image's photographs into ``data/clean/{trainval,test}``, split by image."""
    with into_place(data / 'clean') as tmp:
        sh(py, '-m', 'data_tools', 'photos', tmp / 'all', '--max-size', size.photo_size)
        for split in SPLITS:
            (tmp / split).mkdir()
        for photo in sorted((tmp / 'all').iterdir()):
            photo.rename(tmp / ('test' if photo.stem in TEST_PHOTOS else 'trainval') /
                         photo.name)
        (tmp / 'all').rmdir()
        print(f'    test photos (held out of training): {", ".join(TEST_PHOTOS)}')


def synthesise(data: Path, py: str) -> None:
    """Each task's degradation over both splits: ``data/<task>/{trainval,test}/``."""
    for task in TASKS:
        if (data / task / 'synth').exists():
            continue
        with into_place(data / task / 'synth') as tmp:
            for split in SPLITS:
                sh(py, '-m', 'data_tools', 'synth', data / 'clean' / split, tmp / split,
                   '--task', task, '--seed', 0)


def pack(data: Path, py: str) -> None:
    """``data/<task>/trainval.h5`` (5 train + 1 validation photo) and ``test.h5``; ``pack``
    writes atomically itself."""
    for task in TASKS:
        src, out = data / task / 'synth', data / task
        if not (out / 'trainval.h5').exists():
            sh(py, '-m', 'data_tools', 'pack', src / 'trainval', out / 'trainval.h5',
               '--layout', 'pairs', '--val-fraction', 0.2)
        if not (out / 'test.h5').exists():
            sh(py, '-m', 'data_tools', 'pack', src / 'test', out / 'test.h5', '--layout', 'pairs')


def input_dir(work: Path, task: str) -> Path:
    """Where a task's degraded test inputs are scored: ``rainy_input``, ``hazy_input``, ..."""
    return work / f'{TASKS[task].folder}_input'


def score_inputs(work: Path, grids: dict, py: str) -> None:
    """Each task's degraded test images against their targets: the reference rows."""
    for task, (_, grid) in grids.items():
        out = input_dir(work, task)
        if out.exists():
            continue
        test = work / 'data' / task / 'synth' / 'test'
        with into_place(out) as tmp:
            sh(py, '-m', 'danet', 'eval-folder', test / TASKS[task].folder, test / 'clean',
               '--testset', grid['testsets'][0], '--method', INPUT_NAMES[TASKS[task].folder],
               '--no-lpips', '--out-dir', tmp / 'results')


def run(work: Path = DEFAULT_WORK, quick: bool = False) -> Path:
    """The whole demo into ``work``; returns the report's HTML page."""
    size = QUICK if quick else FULL
    work = Path(work).resolve()
    data, runs, report = work / 'data', work / 'ablations', work / 'report'
    work.mkdir(parents=True, exist_ok=True)
    py, start = sys.executable, time.monotonic()

    step(1, f'complexity of DANet, its component variants and MPRNet at '
            f'{"x".join(map(str, size.flops_shape))}', [work / 'complexity.json'],
         lambda: sh(py, '-m', 'danet', 'count-macs',
                    'configs/danet/danet_1xb16-1000e_rain13k.py',
                    'configs/mprnet/mprnet_1xb16-250e_rain13k.py', '--shape', *size.flops_shape,
                    *sum(size.variants, []), '--out', work / 'complexity.json'))
    step(2, "export scikit-image's photographs, split by image into trainval/test",
         [data / 'clean'], lambda: split_photos(data, size, py))
    step(3, f'synthesise {", ".join(TASKS)} over the photographs',
         [data / task / 'synth' for task in TASKS], lambda: synthesise(data, py))
    step(4, 'pack into HDF5 per task (trainval with a validation split; test)',
         [data / task / name for task in TASKS for name in ('trainval.h5', 'test.h5')],
         lambda: pack(data, py))
    grids = {task: grid_file(task, work, size) for task in TASKS}
    step(5, f'one grid per task: {", ".join(p.name for p, _ in grids.values())} '
            '(finished runs are skipped)', [],
         lambda: [run_grid(path, runs) for path, _ in grids.values()])
    step(6, "score each task's degraded test inputs (the tables' reference rows)",
         [input_dir(work, task) for task in TASKS], lambda: score_inputs(work, grids, py))

    index = report / 'index.html'
    finished = [p.stat().st_mtime for p in [
        *(done for path, _ in grids.values() for done in (runs / path.stem).glob('*/DONE.json')),
        *work.glob('*_input/results/*.json')]]
    if index.exists() and index.stat().st_mtime < max(finished, default=0):
        index.unlink()   # a result was written after the report: write it again
    derain = data / 'derain' / 'synth' / 'test'
    step(7, 'report (a column group per task test set)', [index],
         lambda: sh(py, '-m', 'analysis', 'report',
                    *(runs / path.stem for path, _ in grids.values()),
                    *(input_dir(work, task) for task in TASKS), '--out', report,
                    '--rainy', derain / 'rainy', '--gt', derain / 'clean',
                    '--testset', grids['derain'][1]['testsets'][0]))
    print('\n' + (report / 'ablation.md').read_text())
    print(f'report: {index}')
    print(f'demo finished in {time.monotonic() - start:.0f} s')
    return index


def main(argv=None) -> None:
    """``python -m ablations.demo [--work-dir D] [--quick]``; ``--quick`` (tests/test_demo.py)
    shrinks everything: 3 epochs on 128-px photos, the derain grid's base and one variant, the
    other tasks' base only."""
    parser = argparse.ArgumentParser(prog='python -m ablations.demo',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', type=Path, default=DEFAULT_WORK)
    parser.add_argument('--quick', action='store_true', help='toy sizes, for tests')
    args = parser.parse_args(argv)
    run(args.work_dir, quick=args.quick)


if __name__ == '__main__':
    run_main(main)
