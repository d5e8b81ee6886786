"""``python tools/count_macs.py ...``: a shim over ``python -m danet count-macs`` (same flags).
The command and its documentation: ``danet/commands/count_macs.py``."""
from danet.commands.count_macs import main
from danet.utils.cli import run_main

__all__ = ['main']

if __name__ == '__main__':
    run_main(main)
