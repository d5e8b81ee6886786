"""Convert an official DANet, MPRNet or PReNet-family checkpoint into a platform checkpoint.

    python tools/convert_checkpoint.py --arch ARCH SRC DST
    python tools/convert_checkpoint.py --prenet-release RELEASE_DIR OUT_DIR

ARCH: danet, mprnet, prenet, prn, prenet_r, prn_r, prenet_gru, prenet_x, prenet_lstm (PReNet's
ablation PReNet_LSTM files), prenet_real (its ``real/PReNet*.pth``). ``--prenet-release``
converts every file of PReNet's released ``logs/`` folder into ``OUT_DIR/<set>_<model>.pth``.
"""
import argparse
import sys

from danet.models.checkpoint import CheckpointMismatchError
from danet.models.converters import convert_checkpoint, convert_prenet_release, official_archs
from danet.utils.cli import run_main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument('--arch', choices=sorted(official_archs()))
    which.add_argument('--prenet-release', action='store_true',
                       help='SRC is PReNet\'s released logs/ folder, DST a folder')
    parser.add_argument('src', help='official checkpoint (.pth), or the release folder')
    parser.add_argument('dst', help='platform checkpoint to write, or the output folder')
    args = parser.parse_args(argv)
    try:
        if args.prenet_release:
            for path in convert_prenet_release(args.src, args.dst):
                print(f'wrote {path}')
            return 0
        meta = convert_checkpoint(args.src, args.dst, args.arch)
    except CheckpointMismatchError as err:
        print(f'error: {err}\nnothing written', file=sys.stderr)
        return 1
    print(f'wrote {args.dst} ({meta["num_tensors"]} tensors, arch {meta["arch"]})')
    return 0


if __name__ == '__main__':
    run_main(main)
