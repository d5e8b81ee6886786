"""Train a config in its own run directory:
``python tools/train.py CONFIG [--work-dir D] [--resume] [--amp] [--cfg-options k=v ...]``."""
import argparse

from mmengine.registry import init_default_scope

from danet.engine.runner import load_run_config, run_training
from danet.registry import SCOPE
from danet.utils.config import add_run_options


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--work-dir', help='run directory (default work_dirs/<config stem>)')
    parser.add_argument('--resume', action='store_true',
                        help='continue the run in --work-dir from its last checkpoint')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: fp16 on CUDA, bf16 on CPU (config key `amp`)')
    add_run_options(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    init_default_scope(SCOPE)
    options = dict(args.cfg_options, **{'+amp': True}) if args.amp else args.cfg_options
    cfg = load_run_config(args.config, args.work_dir, options, args.launcher)
    run_training(cfg, resume=args.resume)


if __name__ == '__main__':
    main()
