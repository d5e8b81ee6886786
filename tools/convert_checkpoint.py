"""Convert an official DANet or MPRNet checkpoint into a platform checkpoint.

    python tools/convert_checkpoint.py --arch danet|mprnet SRC DST
"""
import argparse
import sys

from danet.models.converters import ARCHS, CheckpointMismatchError, convert_checkpoint
from danet.utils.cli import run_main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--arch', required=True, choices=sorted(ARCHS))
    parser.add_argument('src', help='official checkpoint (.pth)')
    parser.add_argument('dst', help='platform checkpoint to write')
    args = parser.parse_args(argv)
    try:
        meta = convert_checkpoint(args.src, args.dst, args.arch)
    except CheckpointMismatchError as err:
        print(f'error: {err}\nnothing written', file=sys.stderr)
        return 1
    print(f'wrote {args.dst} ({meta["num_tensors"]} tensors, arch {meta["arch"]})')
    return 0


if __name__ == '__main__':
    run_main(main)
