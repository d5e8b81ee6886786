"""The README demo (``make demo``): complexity table, synthetic data, a tiny ablation grid, report.

    python tools/demo.py [--work-dir work_dirs/demo] [--quick]

Every step runs the platform's own commands and is skipped when its output already exists, so
re-running resumes (finished grid runs are kept). Directories are built under a ``.partial``
name and renamed into place. The test set is 3 photographs held out of training by image
(the motorcycle stereo pair and the astronaut), so no background is seen in both. ``--quick``
(used by tests/test_demo.py) shrinks everything: 2 grid runs (one seed) of 3 epochs on 128-px
photos.
docs/demo.md has the timings.

The report's comparison table has a "Rainy input" reference row: the rainy test images scored
against their ground truths with ``tools/eval_folder.py`` into ``rainy_input/results/``.
"""
import argparse
import runpy
import shlex
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WORK = ROOT / 'work_dirs' / 'demo'
GRID_FILE = ROOT / 'ablations' / 'demo_tiny.py'
TEST_PHOTOS = ('astronaut', 'motorcycle_left', 'motorcycle_right')
SPLITS = ('trainval', 'test')
PARALLEL = 2
STEPS = 7
RAINY_METHOD = 'Rainy input'
COMPLEXITY_VARIANTS = [
    ['--variant', 'w/o ALM', 'model.generator.alm.type=PlainALM'],
    ['--variant', 'parameter-free mask', 'model.generator.alm.mask.type=RainMagnitudeMask'],
    ['--variant', 'w/o sampling space', 'model.generator.sampling.type=NoSampling'],
]
# --quick: the same pipeline at toy size.
QUICK = dict(photo_size=128, flops_shape=[3, 64, 64], variants=COMPLEXITY_VARIANTS[:1], axes=1,
             epochs=3, seeds=[0])
FULL = dict(photo_size=512, flops_shape=[3, 256, 256], variants=COMPLEXITY_VARIANTS, axes=None,
            epochs=None, seeds=None)


def sh(*argv, env: dict | None = None) -> None:
    """Run a command from the repository root, its progress streaming; stop the demo if it fails."""
    argv = [str(a) for a in argv]
    print('    $ ' + shlex.join(argv), flush=True)
    code = subprocess.run(argv, cwd=ROOT, env=env).returncode
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


def grid_file(work: Path, data: Path, size: dict) -> tuple[Path, dict]:
    """The grid to run and its contents: ``ablations/demo_tiny.py`` itself for the default demo,
    otherwise a copy written into ``work`` that reads ``data`` (and, quick, is smaller)."""
    grid = {k: v for k, v in runpy.run_path(str(GRID_FILE)).items() if not k.startswith('_')}
    if work == DEFAULT_WORK and size is FULL:
        return GRID_FILE, grid
    grid['cfg_options'] = {**grid['cfg_options'],
                           'train_dataloader.dataset.ann_file': str(data / 'trainval.h5'),
                           'val_dataloader.dataset.ann_file': str(data / 'trainval.h5'),
                           'test_dataloader.0.dataset.ann_file': str(data / 'test.h5')}
    if size['axes'] is not None:
        grid['axes'] = dict(list(grid['axes'].items())[:size['axes']])
        for name in ('base_labels', 'axis_names'):   # may name only axes that are kept
            grid[name] = {k: v for k, v in grid[name].items() if k in grid['axes']}
    if size['seeds'] is not None:
        grid['seeds'] = size['seeds']
    if size['epochs'] is not None:
        grid['cfg_options'].update({key: size['epochs'] for key in (
            'train_cfg.max_epochs', 'train_cfg.val_interval', 'param_scheduler.0.T_max',
            'default_hooks.checkpoint.interval')})
    path = work / GRID_FILE.name
    path.write_text('"""Written by tools/demo.py from ablations/demo_tiny.py."""\n' +
                    ''.join(f'{key} = {value!r}\n' for key, value in grid.items()))
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', type=Path, default=DEFAULT_WORK)
    parser.add_argument('--quick', action='store_true', help='toy sizes, for tests')
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    work = args.work_dir.resolve()
    data, runs, report = work / 'data', work / 'ablations', work / 'report'
    work.mkdir(parents=True, exist_ok=True)
    py, start = sys.executable, time.monotonic()

    step(1, f'complexity of DANet, its component variants and MPRNet at '
            f'{"x".join(map(str, size["flops_shape"]))}', [work / 'complexity.json'],
         lambda: sh(py, 'tools/count_macs.py', 'configs/danet/danet_1xb16-1000e_rain13k.py',
                    'configs/mprnet/mprnet_1xb16-250e_rain13k.py', '--shape', *size['flops_shape'],
                    *sum(size['variants'], []), '--out', work / 'complexity.json'))

    def photos():
        with into_place(data / 'clean') as tmp:
            sh(py, '-m', 'data_tools', 'photos', tmp / 'all', '--max-size', size['photo_size'])
            for split in SPLITS:
                (tmp / split).mkdir()
            for photo in sorted((tmp / 'all').iterdir()):
                photo.rename(tmp / ('test' if photo.stem in TEST_PHOTOS else 'trainval') /
                             photo.name)
            (tmp / 'all').rmdir()
            print(f'    test photos (held out of training): {", ".join(TEST_PHOTOS)}')
    step(2, "export scikit-image's photographs, split by image into trainval/test",
         [data / 'clean'], photos)

    def synth():
        with into_place(data / 'rain') as tmp:
            for split in SPLITS:
                sh(py, '-m', 'data_tools', 'synth', data / 'clean' / split, tmp / split,
                   '--seed', 0)
    step(3, 'synthesise rain over the photographs', [data / 'rain'], synth)

    def pack():   # pack writes atomically itself
        if not (data / 'trainval.h5').exists():
            sh(py, '-m', 'data_tools', 'pack', data / 'rain' / 'trainval', data / 'trainval.h5',
               '--layout', 'pairs', '--val-fraction', 0.2)
        sh(py, '-m', 'data_tools', 'pack', data / 'rain' / 'test', data / 'test.h5',
           '--layout', 'pairs')
    step(4, 'pack into HDF5 (trainval with a validation split; test)',
         [data / 'trainval.h5', data / 'test.h5'], pack)

    path, grid = grid_file(work, data, size)
    step(5, f'ablation grid {path} (finished runs are skipped)', [],
         lambda: run_grid(path, runs))

    testset, rainy = grid['testsets'][0], work / 'rainy_input'

    def score_rainy():
        with into_place(rainy) as tmp:
            sh(py, 'tools/eval_folder.py', data / 'rain' / 'test' / 'rainy',
               data / 'rain' / 'test' / 'clean', '--testset', testset, '--method', RAINY_METHOD,
               '--no-lpips', '--out-dir', tmp / 'results')
    step(6, 'score the rainy test inputs (the tables\' reference row)', [rainy], score_rainy)

    index = report / 'index.html'
    finished = [p.stat().st_mtime for p in [*(runs / path.stem).glob('*/DONE.json'),
                                            *rainy.glob('results/*.json')]]
    if index.exists() and index.stat().st_mtime < max(finished, default=0):
        index.unlink()   # a result was written after the report: write it again
    step(7, 'report', [index],
         lambda: sh(py, '-m', 'analysis', 'report', runs / path.stem, rainy, '--out', report,
                    '--rainy', data / 'rain' / 'test' / 'rainy',
                    '--gt', data / 'rain' / 'test' / 'clean', '--testset', testset))
    print('\n' + (report / 'ablation.md').read_text())
    print(f'report: {index}')
    print(f'demo finished in {time.monotonic() - start:.0f} s')


if __name__ == '__main__':
    main()
