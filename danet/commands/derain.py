"""Derain an image or a folder of images of any size:
``python -m danet derain CONFIG CHECKPOINT INPUT OUTPUT_DIR [--suffix S] [--tile N --overlap M]
[--protocol NAME] [--revise-keys REGEX=REPL]``.

Any input ``decode_rgb`` converts (gray, 16-bit, palette, alpha, CMYK); each output
``<stem><suffix>.png`` is an RGB PNG of the input's size, written atomically. An input is never
overwritten: writing into the inputs' folder needs a ``--suffix``, and two inputs that would give
the same output name (``x.jpg``, ``x.png``) are refused before any work, as are a ``--suffix`` the
name gate refuses (``/``, ``..``, a leading dot), a ``--tile`` under 32 or ``--overlap`` under 8
pixels, and a ``--device`` that is not ``cpu``/``cuda[:N]``/``mps`` or not available (exit 2).
One derain writes into OUTPUT_DIR at a time (a second exits 2 naming the holder). An unreadable
image is skipped; the failures are listed at the end (exit code 1). Logic:
``danet/apis/derain_files.py``; ``tools/derain.py`` is a shim."""
import argparse
from pathlib import Path

from danet.apis.derain_files import derain_files
from danet.evaluation.protocols import DEFAULT_PROTOCOL, protocol_names
from danet.models.checkpoint import parse_revise_keys
from danet.utils.cli import add_revise_keys_option


def build_parser(parser=None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog='python -m danet derain',
                                               description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('input', type=Path, help='an image file or a folder of images')
    parser.add_argument('output_dir', type=Path)
    parser.add_argument('--suffix', default='',
                        help='appended to each output stem (needed to write beside the inputs)')
    parser.add_argument('--tile', type=int, help='process in tiles of this size (bounded memory)')
    parser.add_argument('--overlap', type=int,
                        help='tile overlap in pixels (default 32, a quarter of a tile under 128)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--protocol', choices=protocol_names(), default=DEFAULT_PROTOCOL,
                        help='quantise each output as this evaluation protocol scores it (e.g. '
                             f'prenet_matlab truncates; default {DEFAULT_PROTOCOL} rounds)')
    add_revise_keys_option(parser)
    return parser


def run(args) -> int:
    return derain_files(args.config, args.checkpoint, args.input, args.output_dir, args.suffix,
                        args.tile, args.overlap, args.device, args.protocol,
                        parse_revise_keys(args.revise_keys))


def main(argv=None) -> int:
    return run(build_parser().parse_args(argv))
