"""Process liveness, for locks and leftovers named after the process that made them."""
import os
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a running process on this host. A zombie counts as dead: a process
    killed together with its parent stays a zombie where nothing reaps orphans (PID 1 of many
    containers), and what it held must still be reclaimable."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return True   # no procfs: trust the signal check
    return state != 'Z'
