"""Random-crop loading speed: packed HDF5 vs the same PNG/JPEG files, side by side in one run.

    python tools/benchmark_loader.py [--src ../shared/data/Rain100L] [--workers 2] [--crops 800]

Packs ``--src`` (``pairs`` layout) into a temporary file (timing the pack and comparing sizes),
then draws random ``--crop``² crops (+ flip/rot) through ``H5PairedDataset`` and
``FolderPairedDataset`` with the same DataLoader settings and prints crops/s and their ratio.
Logic: ``danet/benchmarks/loader.py``.
"""
import argparse
from pathlib import Path

from danet.benchmarks.loader import loader_benchmark
from danet.utils.cli import run_main


def main(argv=None) -> None:
    default_src = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'Rain100L'
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--src', default=str(default_src))
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--crop', type=int, default=256)
    parser.add_argument('--crops', type=int, default=800)
    parser.add_argument('--compression', default='none', choices=('none', 'gzip', 'lzf'))
    args = parser.parse_args(argv)
    loader_benchmark(Path(args.src), args.workers, args.batch, args.crop, args.crops,
                     args.compression)


if __name__ == '__main__':
    run_main(main)
