"""``python tools/benchmark_inference.py ...``: a shim over ``python -m danet benchmark-inference``
(same flags). The command and its documentation: ``danet/commands/benchmark_inference.py``."""
from danet.commands.benchmark_inference import main
from danet.utils.cli import run_main

__all__ = ['main']

if __name__ == '__main__':
    run_main(main)
