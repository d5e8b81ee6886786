"""Where the shared data live, for defaults of the benchmarks: ``$DANET_SHARED/data``, else
``../shared/data`` from the folder you run in (as the configs' ``{{$DANET_SHARED:../shared}}``).
The library never looks for the clone; from elsewhere, set ``DANET_SHARED`` or pass paths."""
import os
from pathlib import Path


def shared_data() -> Path:
    """``$DANET_SHARED/data`` if set, else ``../shared/data`` relative to the working folder."""
    return Path(os.environ.get('DANET_SHARED') or Path('..') / 'shared') / 'data'
