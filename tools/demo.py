"""The README demo (``make demo``): complexity table, data synthesised for three tasks, a tiny
grid per task, one report. The pipeline is ``danet/apis/demo.py``; docs/demo.md has the timings.

    python tools/demo.py [--work-dir work_dirs/demo] [--quick]

``--quick`` (used by tests/test_demo.py) shrinks everything: 3 epochs on 128-px photos, the
derain grid's base and one variant, the other tasks' base only.
"""
import argparse
from pathlib import Path

from danet.apis.demo import DEFAULT_WORK, run
from danet.utils.cli import run_main


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', type=Path, default=DEFAULT_WORK)
    parser.add_argument('--quick', action='store_true', help='toy sizes, for tests')
    args = parser.parse_args(argv)
    run(args.work_dir, quick=args.quick)


if __name__ == '__main__':
    run_main(main)
