"""The sample figures of docs/analysis.md from a finished demo (``python -m analysis
docs-figures``):
``python -m analysis report`` over the demo with single-column plots, a real-photo figure (rainy
inputs, no ground truth), and every PNG scaled to at most 700 pixels wide (figures of photographs
with a 256-colour palette) into ``docs/img/analysis/``."""
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from analysis.store import AnalysisError
from danet.utils.fileio import atomic_path

DOCS = Path(__file__).resolve().parents[1] / 'docs' / 'img' / 'analysis'
MAX_WIDTH = 700


def docs_figures(demo: Path, out: Path = DOCS) -> None:
    """Draw the figures of the demo under ``demo`` into ``out``; ``AnalysisError`` when
    ``demo`` holds no finished demo."""
    test = demo / 'data' / 'derain' / 'synth' / 'test'   # the demo's derain task
    grid, rainy, clean = demo / 'ablations' / 'demo_tiny', test / 'rainy', test / 'clean'
    if not (grid.is_dir() and rainy.is_dir() and clean.is_dir()):
        raise AnalysisError(f'{demo}: no finished demo (expected {grid} and {rainy}); run '
                                '`make demo` first or give --demo-dir')
    with tempfile.TemporaryDirectory() as tmp:
        _draw(Path(tmp), demo, grid, rainy, clean, out)


def _draw(work: Path, demo: Path, grid: Path, rainy: Path, clean: Path, out: Path) -> None:
    analysis = [sys.executable, '-m', 'analysis']
    subprocess.run([*analysis, 'report', str(grid), str(demo / 'rainy_input'), '--out',
                    str(work), '--layout', 'single', '--rainy', str(rainy), '--gt', str(clean),
                    '--testset', 'SynthTest'], check=True)
    base = sorted(grid.glob('base_s0_*/images/SynthTest'))[0]
    alm = sorted(grid.glob('w-o-alm_s0_*/images/SynthTest'))[0]
    subprocess.run([*analysis, 'figure', '--rainy', str(rainy), '--method', f'base={base}',
                    '--method', f'w/o ALM={alm}', '--n-images', '1', '--out',
                    str(work / 'figures' / 'real_photo_SynthTest')], check=True)
    out.mkdir(parents=True, exist_ok=True)
    for png in sorted(work.glob('*/*.png')):
        with Image.open(png) as img:
            scale = min(1.0, MAX_WIDTH / img.width)
            small = img.convert('RGB').resize((round(img.width * scale),
                                               round(img.height * scale)), Image.LANCZOS)
        if png.parent.name == 'figures':      # photographs: a 256-colour palette keeps it small
            small = small.quantize(256)
        target = out / png.name
        with atomic_path(target, suffix='.png') as tmp:
            small.save(tmp, format='PNG', optimize=True)
        print(f'{target} ({target.stat().st_size // 1024} KiB)')
