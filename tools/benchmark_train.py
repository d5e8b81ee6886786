"""Training-step speed of DANet and the share of time spent waiting for data, in one run.

    python tools/benchmark_train.py [H5] [--config configs/danet/danet_1xb16-1000e_rain13k.py]
        [--batch 4] [--crop 128] [--workers 2] [--steps 20] [--warmup 3] [--threads N]
        [--out result.json]
    python tools/benchmark_train.py --reference [--batch 4] [--crops 128 256] [--threads 1 2]
    python tools/benchmark_train.py --parts [--channels-last] [--batch 4] [--crops 128]

Loader-fed vs pre-loaded steps (without ``H5``, ``../shared/data/Train40`` is packed first);
``--reference``: ours ÷ the authors' recipe, interleaved; ``--parts``: each part of one step.
Logic and details: ``danet/benchmarks/train.py``.
"""
import argparse
from pathlib import Path

from danet.benchmarks.train import (
    DEFAULT_CONFIG,
    GOLDEN,
    TRAIN40,
    reference_benchmark,
    step_parts,
    train_benchmark,
)
from danet.utils.cli import run_main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('h5', nargs='?', help=f'packed training file (default: pack {TRAIN40})')
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--crop', type=int, default=128)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--steps', type=int, help='timed steps per variant (default 20; '
                        '--reference/--parts: 7)')
    parser.add_argument('--warmup', type=int, help='untimed steps first (default 3; '
                        '--reference/--parts: 2)')
    parser.add_argument('--threads', type=int, nargs='+',
                        help="torch intra-op threads (default: torch's; --reference: 1 2)")
    parser.add_argument('--out', help='also write the figures to this JSON file')
    parser.add_argument('--reference', action='store_true',
                        help="ours vs a plain loop of the authors' recipe, interleaved")
    parser.add_argument('--crops', type=int, nargs='+', default=[128],
                        help='--reference: crop sizes to time (--parts: the first)')
    parser.add_argument('--weights', type=Path, default=GOLDEN,
                        help='--reference: official-format DANet state dict')
    parser.add_argument('--parts', action='store_true',
                        help="time each part of the platform's step (in this process)")
    parser.add_argument('--channels-last', action='store_true',
                        help='--parts: build the model with channels_last=True')
    a = parser.parse_args(argv)
    thread = a.threads[0] if a.threads else None
    if a.parts:
        step_parts(a.config, a.batch, a.crops[0], a.channels_last, thread, a.warmup, a.steps)
    elif a.reference:
        reference_benchmark(a.weights, a.batch, a.crops, a.threads, a.warmup, a.steps, a.out)
    else:
        train_benchmark(a.h5, a.config, a.batch, a.crop, a.workers, a.steps, a.warmup, thread,
                        a.out)


if __name__ == '__main__':
    run_main(main)
