"""Train a config in its own run directory:
``python -m danet train CONFIG [--work-dir D] [--resume] [--amp] [--allow-overlap]
[--load-from CKPT [--revise-keys REGEX=REPL]] [--cfg-options ...]`` (or ``tools/train.py``).

Exit code 2 when the training split shares backgrounds with a test set (without
``--allow-overlap``)."""
import argparse
import sys

from mmengine.registry import init_default_scope

from danet.engine.overlap import OverlapError
from danet.engine.runner import load_run_config, run_training
from danet.models.checkpoint import parse_revise_keys
from danet.registry import SCOPE
from danet.utils.cli import add_revise_keys_option
from danet.utils.config import add_run_options


def build_parser(parser=None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog='python -m danet train',
                                               description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--work-dir', help='run directory (default work_dirs/<config stem>)')
    parser.add_argument('--resume', action='store_true',
                        help='continue the run in --work-dir from its last checkpoint')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: fp16 on CUDA, bf16 on CPU (config key `amp`)')
    parser.add_argument('--allow-overlap', action='store_true',
                        help='train even if the training split shares backgrounds with a test set')
    parser.add_argument('--load-from', metavar='CKPT',
                        help='start from these weights (config key load_from); not a resume')
    add_revise_keys_option(parser)
    add_run_options(parser)
    return parser


def run(args) -> None:
    init_default_scope(SCOPE)
    options = dict(args.cfg_options, **{'+amp': True}) if args.amp else args.cfg_options
    cfg = load_run_config(args.config, args.work_dir, options, args.launcher)
    if args.load_from:
        cfg.load_from = args.load_from
    try:
        run_training(cfg, resume=args.resume, allow_overlap=args.allow_overlap,
                     key_rules=parse_revise_keys(args.revise_keys))
    except OverlapError as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)


def main(argv=None) -> None:
    return run(build_parser().parse_args(argv))
