"""``python -m danet``: the platform's own commands.

    python -m danet train CONFIG ...                # tools/train.py (docs/training.md)
    python -m danet test CONFIG CHECKPOINT ...      # tools/test.py
    python -m danet derain CONFIG CHECKPOINT IN OUT # tools/derain.py
    python -m danet convert --arch ARCH SRC DST     # tools/convert_checkpoint.py
    python -m danet count-macs CONFIG ...           # tools/count_macs.py
    python -m danet eval-folder PRED GT ...         # tools/eval_folder.py
    python -m danet benchmark-inference ...         # tools/benchmark_inference.py
    python -m danet new-model NAME --out DIR        # a plug-in package skeleton (docs/extending.md)

Each command has the flags of its tool (``python -m danet COMMAND --help``); the tools are shims.
"""
import argparse
from pathlib import Path

from danet.commands import (
    benchmark_inference,
    convert,
    count_macs,
    derain,
    eval_folder,
    test,
    train,
)
from danet.scaffold import new_model, next_steps
from danet.utils.cli import run_main

COMMANDS = {'train': train, 'test': test, 'derain': derain, 'convert': convert,
            'count-macs': count_macs, 'eval-folder': eval_folder,
            'benchmark-inference': benchmark_inference}


def _new_model(args) -> int:
    for path in new_model(args.name, args.out):
        print(f'wrote {path}')
    print(next_steps(args.name, args.out))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='python -m danet', description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    for name, module in COMMANDS.items():
        first = module.__doc__.splitlines()[0].rstrip(':')
        module.build_parser(sub.add_parser(name, help=first, description=first))
    p = sub.add_parser('new-model', help='write a plug-in package: a registered generator, a '
                                         'config on the shipped bases, a grid file, a test')
    p.add_argument('name', help='package name, a lower-case identifier (e.g. mynet)')
    p.add_argument('--out', type=Path, required=True, help='folder to write the package into')
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    run = COMMANDS[args.command].run if args.command in COMMANDS else _new_model
    return run(args)


if __name__ == '__main__':
    run_main(main)
