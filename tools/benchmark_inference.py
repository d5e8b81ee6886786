"""Inference speed and memory of the generators, measured side by side in one run.

    python tools/benchmark_inference.py --models danet mprnet --shapes 256x256 320x480 \
        --out FILE.json
    python tools/benchmark_inference.py --reference [--threads 1 2] [--repeats 7] [--out F.json]
    python tools/benchmark_inference.py --options compile bf16 onnxruntime [--models danet]
        [--shapes 320x480] [--threads 1] [--out F.json]
    python tools/benchmark_inference.py --profile [--shapes 320x480] [--threads 1]

``--reference``: ours ÷ the authors' DANet re-stated (``danet/benchmarks/ab.py``), per image,
interleaved between two worker processes, with page faults per call and the load average.
``--options``: each engine option against the fp32 engine. ``--profile``: self time per op of our
forward and the reference's.
Logic: ``danet/benchmarks/inference.py``.
"""
import argparse
from pathlib import Path

from danet.benchmarks.inference import (
    inference_benchmark,
    options_benchmark,
    profile_benchmark,
    reference_benchmark,
)
from danet.benchmarks.latency import GENERATORS
from danet.benchmarks.options import OPTIONS
from danet.utils.cli import run_main

GOLDEN = (Path(__file__).resolve().parents[2]
          / 'shared/data/reference_outputs/danet_official_random.pth')


def _shape(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'shape must look like 256x256, got {text!r}') from None
    return h, w


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', choices=sorted(GENERATORS),
                        default=['danet', 'mprnet'])
    parser.add_argument('--shapes', nargs='+', type=_shape,
                        help='HxW (default: 256x256 320x480; with --reference also 512x512)')
    parser.add_argument('--warmup', type=int, help='untimed calls first (default 1; 2 with '
                                                   '--reference)')
    parser.add_argument('--repeats', type=int, help='timed calls (default 5; 7 with --reference)')
    parser.add_argument('--compile', action='store_true', help='also time torch.compile')
    parser.add_argument('--peak-shape', type=_shape, default=(3072, 2048),
                        help='image for the DANet peak-memory run (HxW)')
    parser.add_argument('--peak-tile', type=int, default=1024, help='0: untiled')
    parser.add_argument('--skip-peak', action='store_true')
    parser.add_argument('--out', help='JSON file for the full report')
    parser.add_argument('--reference', action='store_true',
                        help="ours vs the authors' DANet re-stated, interleaved per image")
    parser.add_argument('--threads', nargs='+', type=int, default=[1, 2],
                        help='torch threads of the --reference workers')
    parser.add_argument('--weights', type=Path, default=GOLDEN,
                        help='official-format DANet state dict for --reference')
    parser.add_argument('--options', nargs='+', choices=OPTIONS,
                        help='time these engine options against the fp32 engine, interleaved '
                             '(first --threads value; default shape 320x480)')
    parser.add_argument('--profile', action='store_true',
                        help="self time per op, ours vs the reference (first shape and --threads)")
    a = parser.parse_args(argv)
    if a.profile:
        profile_benchmark(a.weights, a.shapes, a.threads[0], a.repeats, a.out)
    elif a.options:
        options_benchmark(a.models, a.options, a.shapes, a.threads[0], a.warmup, a.repeats, a.out)
    elif a.reference:
        reference_benchmark(a.weights, a.shapes, a.threads, a.warmup, a.repeats, a.out)
    else:
        inference_benchmark(a.models, a.shapes, a.warmup, a.repeats, a.compile,
                            None if a.skip_peak else a.peak_shape, a.peak_tile, a.out)


if __name__ == '__main__':
    run_main(main)
