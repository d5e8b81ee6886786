"""``python tools/train.py ...``: a shim over ``python -m danet train`` (same flags).
The command and its documentation: ``danet/commands/train.py``."""
from danet.commands.train import main
from danet.utils.cli import run_main

__all__ = ['main']

if __name__ == '__main__':
    run_main(main)
