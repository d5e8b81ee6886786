"""Inference speed and memory of the generators, measured side by side in one run.

    python tools/benchmark_inference.py --models danet mprnet --shapes 256x256 320x480 \
        --out FILE.json
"""
import argparse

from danet.apis.benchmark import GENERATORS, format_report, peak_memory, time_models, to_json
from danet.utils.fileio import atomic_write_text


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
    parser.add_argument('--shapes', nargs='+', type=_shape, default=[(256, 256), (320, 480)])
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--compile', action='store_true', help='also time torch.compile')
    parser.add_argument('--peak-shape', type=_shape, default=(3072, 2048),
                        help='image for the DANet peak-memory run (HxW)')
    parser.add_argument('--peak-tile', type=int, default=1024, help='0: untiled')
    parser.add_argument('--skip-peak', action='store_true')
    parser.add_argument('--out', help='JSON file for the full report')
    args = parser.parse_args(argv)

    report = time_models(args.models, args.shapes, args.warmup, args.repeats, args.compile)
    if not args.skip_peak:
        report['peak_memory'] = peak_memory('danet', *args.peak_shape, args.peak_tile or None)
    print(format_report(report))
    if args.out:
        atomic_write_text(args.out, to_json(report))


if __name__ == '__main__':
    main()
