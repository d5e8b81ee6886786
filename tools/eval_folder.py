"""``python tools/eval_folder.py ...``: a shim over ``python -m danet eval-folder`` (same flags).
The command and its documentation: ``danet/commands/eval_folder.py``."""
from danet.commands.eval_folder import main
from danet.utils.cli import run_main

__all__ = ['main']

if __name__ == '__main__':
    run_main(main)
