"""``python tools/derain.py ...``: a shim over ``python -m danet derain`` (same flags).
The command and its documentation: ``danet/commands/derain.py``."""
from danet.commands.derain import main
from danet.utils.cli import run_main

__all__ = ['main']

if __name__ == '__main__':
    run_main(main)
