"""``python tools/convert_checkpoint.py ...``: a shim over ``python -m danet convert`` (same flags).
The command and its documentation: ``danet/commands/convert.py``."""
from danet.commands.convert import main
from danet.utils.cli import run_main

__all__ = ['main']

if __name__ == '__main__':
    run_main(main)
