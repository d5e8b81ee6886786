"""``python -m danet``: the platform's own commands.

    python -m danet new-model NAME --out DIR    # a plug-in package skeleton (docs/extending.md)
"""
import argparse
from pathlib import Path

from danet.scaffold import new_model, next_steps
from danet.utils.cli import run_main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog='python -m danet', description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('new-model', help='write a plug-in package: a registered generator, a '
                                         'config on the shipped bases, a grid file, a test')
    p.add_argument('name', help='package name, a lower-case identifier (e.g. mynet)')
    p.add_argument('--out', type=Path, required=True, help='folder to write the package into')
    args = parser.parse_args(argv)
    for path in new_model(args.name, args.out):
        print(f'wrote {path}')
    print(next_steps(args.name, args.out))
    return 0


if __name__ == '__main__':
    run_main(main)
