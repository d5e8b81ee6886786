"""Evaluate a checkpoint on the test sets of a config:
``python -m danet test CONFIG CHECKPOINT [--work-dir D] [--save-images]
[--testsets NAME|NAME=PATH ...] [--protocol NAME] [--revise-keys REGEX=REPL]`` (or
``tools/test.py``).

Writes ``results/<testset>.json``, ``complexity.json`` and ``env.json`` into the run directory
(default: the checkpoint's directory)."""
import argparse
from pathlib import Path

from mmengine.registry import init_default_scope

from danet.engine.runner import load_run_config, run_testing
from danet.evaluation.protocols import DEFAULT_PROTOCOL, protocol_names
from danet.models.checkpoint import parse_revise_keys
from danet.registry import SCOPE
from danet.utils.cli import add_revise_keys_option
from danet.utils.config import add_run_options


def build_parser(parser=None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog='python -m danet test',
                                               description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--work-dir', help='run directory (default: the checkpoint\'s folder)')
    parser.add_argument('--save-images', action='store_true',
                        help='write predictions to <work-dir>/images/<testset>/')
    parser.add_argument('--testsets', nargs='+', metavar='NAME|NAME=PATH',
                        help="evaluate only these test sets of the config (default: all); "
                             'NAME=PATH adds a packed .h5 or a folder of pairs (any layout '
                             "data_tools pack knows), scored as the config's first test set and "
                             'written to results/NAME.json')
    parser.add_argument('--protocol', choices=protocol_names(),
                        help='evaluation protocol of every test set (default: the config\'s, '
                             f'else {DEFAULT_PROTOCOL}); see docs/metrics.md')
    add_revise_keys_option(parser)
    add_run_options(parser)
    return parser


def run(args) -> None:
    init_default_scope(SCOPE)
    work_dir = args.work_dir or Path(args.checkpoint).parent
    cfg = load_run_config(args.config, work_dir, args.cfg_options, args.launcher)
    metrics = run_testing(cfg, args.checkpoint, save_images=args.save_images,
                          testsets=args.testsets, protocol=args.protocol,
                          key_rules=parse_revise_keys(args.revise_keys))
    for key, value in metrics.items():
        print(f'{key}: {value:.4f}')


def main(argv=None) -> None:
    return run(build_parser().parse_args(argv))
