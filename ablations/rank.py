"""``python -m ablations rank CONFIG CKPT --testsets ... --protocol P``: a checkpoint vs the zoo.

The layering: evaluation happens here, through the same entry points a grid uses, and the
ranking is read from the stored results by ``python -m analysis rank`` (analysis never
evaluates). Steps, each a process:

1. the zoo: every zoo grid (default: the released-weight grids of the test sets, ``ZOO``) runs with
   ``python -m ablations run``, which skips the runs already done: each zoo model is evaluated
   once and cached under ``WORK_ROOT/<grid>``;
2. the candidate: ``tools/test.py CONFIG CKPT --testsets ... --protocol P --save-images`` into
   ``WORK_ROOT/rank/<config stem>-<checkpoint hash>`` (skipped when its results are there);
3. ``python -m analysis rank`` writes the table, the statistics and the figure into ``--out``.
"""
import subprocess
import sys
from pathlib import Path

from ablations.grid import load_grid
from ablations.spec import REPO_ROOT
from danet.utils.hashing import file_sha256

ZOO = {'Rain100L': 'prenet_readme_rain100l', 'Rain100H': 'prenet_readme_rain100h'}
"""Released-weight zoo grid of each test set (convert the release first: docs/reproductions.md)."""


def _step(argv: list[str]) -> None:
    print('$ ' + ' '.join(map(str, argv)), flush=True)
    code = subprocess.run([sys.executable, *map(str, argv)], cwd=REPO_ROOT).returncode
    if code:
        raise RuntimeError(f'rank: step failed (exit {code}): {" ".join(map(str, argv))}')


def candidate_dir(work_root: Path, config: str, checkpoint: str) -> Path:
    """Where the candidate's evaluation is stored: one folder per (config, checkpoint file)."""
    digest = file_sha256(checkpoint)[:8]
    return work_root / 'rank' / f'{Path(config).stem}-{digest}'


def rank(config: str, checkpoint: str, testsets: list[str], protocol: str, out: Path,
         work_root: Path, zoo: list[str] | None = None, gts: list[str] = ()) -> int:
    """Evaluate what is missing, then let analysis rank the stored results; return 0."""
    if not Path(checkpoint).is_file():
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    unknown = [t for t in testsets if not zoo and t not in ZOO]
    if unknown:
        raise ValueError(f'no zoo grid for {", ".join(unknown)} (known: {", ".join(ZOO)}); '
                         'name one with --zoo GRID')
    grids = [load_grid(name) for name in (zoo or dict.fromkeys(ZOO[t] for t in testsets))]
    work_root = Path(work_root).resolve()
    for grid in grids:
        _step(['-m', 'ablations', 'run', grid.path, '--work-root', work_root])
    run_dir = candidate_dir(work_root, config, checkpoint)
    if not all((run_dir / 'results' / f'{t}.json').is_file() for t in testsets):
        _step([REPO_ROOT / 'tools' / 'test.py', Path(config).resolve(),
               Path(checkpoint).resolve(), '--work-dir', run_dir, '--testsets', *testsets,
               '--protocol', protocol, '--save-images'])
    _step(['-m', 'analysis', 'rank', run_dir, *(work_root / g.name for g in grids),
           '--testsets', *testsets, '--out', Path(out).resolve(),
           *(arg for gt in gts for arg in ('--gt', gt))])
    return 0
