"""``python tools/test.py ...``: a shim over ``python -m danet test`` (same flags).
The command and its documentation: ``danet/commands/test.py``."""
from danet.commands.test import main
from danet.utils.cli import run_main

__all__ = ['main']

if __name__ == '__main__':
    run_main(main)
