"""Complexity table of the whole zoo: parameters, MACs (attention matmuls counted) and CPU
latency of every registered generator at one input size, measured in one process.

    python tools/zoo_complexity.py OUT_DIR [--size H W] [--models NAME|CONFIG ...]
        [--configs PLUGIN_CONFIG ...] [--warmup N] [--repeats N] [--threads N]

Writes ``OUT_DIR/zoo_complexity.json`` (atomically); ``python -m analysis complexity
OUT_DIR/zoo_complexity.json`` renders it as Markdown, CSV and LaTeX (tools never import
analysis). ``--models`` defaults to every generator registered in ``MODELS``
(``danet.models.generators()``) plus ``--configs`` (configs whose ``custom_imports`` register
plug-in generators).
"""
import argparse
from pathlib import Path

import torch

from danet.benchmarks.zoo import zoo_complexity, zoo_models
from danet.utils.cli import run_main
from danet.utils.fileio import atomic_write_json


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='folder for zoo_complexity.json')
    parser.add_argument('--size', type=int, nargs=2, default=[256, 256], metavar=('H', 'W'))
    parser.add_argument('--models', nargs='+', help='lower-case generator names or config files '
                        '(default: every registered generator and --configs)')
    parser.add_argument('--configs', nargs='+', default=[],
                        help="plug-ins' configs, added to the default models")
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--threads', type=int, help='torch threads (default: torch\'s)')
    args = parser.parse_args(argv)
    if min(args.size) < 1 or args.repeats < 1 or args.warmup < 0:
        raise ValueError('--size must be positive, --repeats >= 1, --warmup >= 0')
    if args.threads:
        torch.set_num_threads(args.threads)
    models = args.models or zoo_models(args.configs)
    report = zoo_complexity(models, *args.size, args.warmup, args.repeats)
    path = Path(args.out_dir) / 'zoo_complexity.json'
    atomic_write_json(path, report)
    print(f'{path}\nnext: python -m analysis complexity {path}  (Markdown, CSV, LaTeX tables)')
    return 0


if __name__ == '__main__':
    run_main(main)
