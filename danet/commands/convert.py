"""Convert a foreign checkpoint (an official release, a generator's weights) for the platform.

    python -m danet convert --arch ARCH SRC DST [--revise-keys REGEX=REPL ...]
    python -m danet convert --config CONFIG SRC DST [--revise-keys REGEX=REPL ...]
    python -m danet convert --prenet-release RELEASE_DIR OUT_DIR

ARCH: a registered generator by lower-case name; the official releases map their keys by
themselves: danet, mprnet, prenet, prn, prenet_r, prn_r, prenet_gru, prenet_x, prenet_lstm
(PReNet's ablation PReNet_LSTM files), prenet_real (its ``real/PReNet*.pth``), restormer and
drsformer (their ``{'params': ...}`` files; DRSformer's Rain200L/SPA-Data files, without MEFC, with
``--config configs/drsformer/drsformer_no-mefc_4xb4-2679e_rain200l.py``). ``--config``: the
config's ``model.generator`` (a plug-in's, loaded by its ``custom_imports``). ``--prenet-release``
converts every file of PReNet's released ``logs/`` folder into ``OUT_DIR/<set>_<model>.pth``.
``tools/convert_checkpoint.py`` is a shim with the same flags.
"""
import argparse
import sys

from danet.models.checkpoint import CheckpointMismatchError, parse_revise_keys
from danet.models.converters import convert_checkpoint, convert_prenet_release
from danet.utils.cli import add_revise_keys_option


def build_parser(parser=None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog='python -m danet convert',
                                               description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument('--arch', help='registered generator, lower-case (e.g. mprnet)')
    which.add_argument('--config', help="a config whose model.generator gets the weights")
    which.add_argument('--prenet-release', action='store_true',
                       help='SRC is PReNet\'s released logs/ folder, DST a folder')
    parser.add_argument('src', help='foreign checkpoint (.pth), or the release folder')
    parser.add_argument('dst', help='platform checkpoint to write, or the output folder')
    add_revise_keys_option(parser)
    return parser


def run(args) -> int:
    try:
        if args.prenet_release:
            for path in convert_prenet_release(args.src, args.dst):
                print(f'wrote {path}')
            return 0
        meta = convert_checkpoint(args.src, args.dst, args.arch, args.config,
                                  parse_revise_keys(args.revise_keys))
    except CheckpointMismatchError as err:
        print(f'error: {err}\nnothing written', file=sys.stderr)
        return 1
    print(f'wrote {args.dst} ({meta["num_tensors"]} tensors, arch {meta["arch"]})')
    return 0


def main(argv=None) -> int:
    return run(build_parser().parse_args(argv))
