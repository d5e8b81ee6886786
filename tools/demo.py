"""The README demo (``make demo``): ``python tools/demo.py [--work-dir D] [--quick]`` is a shim
over ``python -m ablations.demo`` (same flags; the pipeline and its documentation live in
``ablations/demo.py``, docs/demo.md has the timings). Tools import only the library, so this one
runs that module by its name (``runpy``, as ``-m`` does), with the clone on the path."""
import runpy
import sys
from pathlib import Path

if __name__ == '__main__':
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    runpy.run_module('ablations.demo', run_name='__main__', alter_sys=True)
