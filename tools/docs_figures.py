"""Regenerate the sample figures of docs/analysis.md from the demo (run ``make demo`` first).

``python tools/docs_figures.py [--demo-dir work_dirs/demo]`` runs ``python -m analysis report``
over the demo with single-column plots, draws a real-photo figure (rainy inputs, no ground
truth), and copies every PNG, scaled to at most 700 pixels wide (figures of photographs with a
256-colour palette), into ``docs/img/analysis/``. Logic: ``analysis/docs_figures.py``.
"""
import argparse
from pathlib import Path

from analysis.docs_figures import DOCS, docs_figures
from danet.utils.cli import run_main


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--demo-dir', type=Path, default=Path('work_dirs/demo'))
    parser.add_argument('--out', type=Path, default=DOCS)
    args = parser.parse_args(argv)
    docs_figures(args.demo_dir, args.out)


if __name__ == '__main__':
    run_main(main)
