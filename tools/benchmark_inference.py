"""Inference speed and memory of the generators, measured side by side in one run.

    python tools/benchmark_inference.py --models danet mprnet --shapes 256x256 320x480 \
        --out FILE.json
    python tools/benchmark_inference.py --reference [--threads 1 2] [--repeats 7] [--out F.json]
    python tools/benchmark_inference.py --options compile bf16 onnxruntime [--models danet]
        [--shapes 320x480] [--threads 1] [--out F.json]
    python tools/benchmark_inference.py --profile [--shapes 320x480] [--threads 1]

``--reference``: ours ÷ the authors' DANet re-stated (``danet/apis/ab_benchmark.py``), per image,
interleaved between two worker processes, with page faults per call and the load average.
``--options``: each engine option against the fp32 engine (``danet/apis/options_bench.py``).
``--profile``: self time per op of our forward and the reference's (``danet/apis/op_profile.py``).
"""
import argparse
import os
import sys
from pathlib import Path

import torch

from danet.apis.benchmark import (
    GENERATORS,
    build_generator,
    format_report,
    peak_memory,
    time_models,
    to_json,
)
from danet.apis.options_bench import OPTIONS, OPTIONS_HEADER, measure_options
from danet.utils.fileio import atomic_write_text
from danet.utils.memory import keep_freed_memory

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
    args = parser.parse_args(argv)
    if args.profile:
        _profile(args)
        return
    if args.options:
        _options(args)
        return
    if args.reference:
        _reference(args)
        return
    shapes = args.shapes or [(256, 256), (320, 480)]
    warmup = 1 if args.warmup is None else args.warmup
    report = time_models(args.models, shapes, warmup, args.repeats or 5, args.compile)
    if not args.skip_peak:
        report['peak_memory'] = peak_memory('danet', *args.peak_shape, args.peak_tile or None)
    print(format_report(report))
    if args.out:
        atomic_write_text(args.out, to_json(report))


def _reference(args) -> None:
    from danet.apis.ab_benchmark import HEADER, compare
    if not args.weights.is_file():
        print(f'--weights: {args.weights} not found; give an official-format DANet state dict '
              '(shared/data/reference_outputs/danet_official_random.pth)', file=sys.stderr)
        sys.exit(2)
    shapes = args.shapes or [(256, 256), (320, 480), (512, 512)]
    warmup = 2 if args.warmup is None else args.warmup
    print(f'load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)')
    print(HEADER)
    rows = compare(str(args.weights), shapes, args.threads, warmup, args.repeats or 7)
    if args.out:
        atomic_write_text(args.out, to_json(dict(rows=rows)))


def _profile(args) -> None:
    from danet.apis.op_profile import compare_profiles, format_profiles
    shape = (args.shapes or [(320, 480)])[0]
    load = os.getloadavg()[0]
    result = compare_profiles(str(args.weights), shape, args.threads[0], args.repeats or 3)
    print(f'{shape[0]}x{shape[1]}, {args.threads[0]} thread(s), load {load:.2f}-'
          f'{os.getloadavg()[0]:.2f}')
    print(format_profiles(result))
    if args.out:
        atomic_write_text(args.out, to_json(result))


def _options(args) -> None:
    torch.set_num_threads(args.threads[0])
    keep_freed_memory()
    print(f'load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)')
    print(OPTIONS_HEADER)
    rows = []
    for name in args.models:
        for shape in args.shapes or [(320, 480)]:
            rows += [dict(row, model=name) for row in measure_options(
                build_generator(name), args.options, shape,
                2 if args.warmup is None else args.warmup, args.repeats or 7)]
    if args.out:
        atomic_write_text(args.out, to_json(dict(rows=rows)))


if __name__ == '__main__':
    main()
