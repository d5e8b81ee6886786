"""The README demo (``make demo``): ``python tools/demo.py [--work-dir D] [--quick]`` is a shim
over ``python -m ablations.demo`` (same flags; the pipeline and its documentation live in
``ablations/demo.py``, docs/demo.md has the timings). Tools import only the library, so this one
hands over to the module in a fresh interpreter, with the clone on its path."""
import os
import subprocess
import sys
from pathlib import Path

CLONE = str(Path(__file__).resolve().parents[1])


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = os.pathsep.join(filter(None, [CLONE, os.environ.get('PYTHONPATH')]))
    return subprocess.call([sys.executable, '-m', 'ablations.demo', *argv],
                           env=dict(os.environ, PYTHONPATH=path))


if __name__ == '__main__':
    sys.exit(main())
