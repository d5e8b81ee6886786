"""Train a config in its own run directory:
``python tools/train.py CONFIG [--work-dir D] [--resume] [--cfg-options k=v ...]``."""
import argparse

from mmengine.registry import init_default_scope

from danet.engine.runner import load_run_config, run_training
from danet.registry import SCOPE
from danet.utils.cli import run_main
from danet.utils.config import add_run_options


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--work-dir', help='run directory (default work_dirs/<config stem>)')
    parser.add_argument('--resume', action='store_true',
                        help='continue the run in --work-dir from its last checkpoint')
    add_run_options(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    init_default_scope(SCOPE)
    cfg = load_run_config(args.config, args.work_dir, args.cfg_options, args.launcher)
    run_training(cfg, resume=args.resume)


if __name__ == '__main__':
    run_main(main)
