"""The run lock: one process at a time works in a run directory (the grid runner's run folders,
a training's ``work_dir``).

``.lock`` holds ``{pid, host, since}``. Taking it is atomic: the holder record is written to a
temporary file first and then hard-linked to ``.lock`` (``os.link`` fails if the lock exists), so
the lock never exists empty or half-written. A lock whose pid is dead on this host is stale; it
is removed under an ``flock`` on ``.lock.break`` after re-checking that it is still stale, so two
takers cannot both break it and both win. A lock from another host is never broken (its pid
cannot be checked from here).
"""
import contextlib
import fcntl
import json
import os
import socket
import tempfile
import time
from pathlib import Path

from danet.utils.processes import pid_alive

LOCK = '.lock'
LOCK_FILES = (LOCK, LOCK + '.break')
"""What the lock leaves in a run directory (not the run's own files)."""


class RunBusyError(FileExistsError):
    """Another live process holds the run directory's lock."""


def _read_record(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


class RunLock:
    """``.lock`` of one run directory; ``acquire`` / ``release``, or ``with RunLock(d).held():``."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK

    def holder(self) -> dict | None:
        """The live holder ``{pid, host, since}``, or None (a stale lock counts as free)."""
        info = _read_record(self.path)
        if info is None:
            return None
        if info.get('host') == socket.gethostname() and not pid_alive(info.get('pid', -1)):
            return None
        return info

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {'pid': os.getpid(), 'host': socket.gethostname(), 'since': time.time()}
        fd, tmp = tempfile.mkstemp(prefix=f'{LOCK}.', suffix='.tmp', dir=self.path.parent)
        try:
            with os.fdopen(fd, 'w') as f:
                json.dump(record, f)
            for _ in range(2):
                try:
                    os.link(tmp, self.path)
                    return True
                except FileExistsError:
                    if not self._break_if_stale():
                        return False
            return False
        finally:
            os.unlink(tmp)

    def _break_if_stale(self) -> bool:
        """Remove a stale lock (re-checked under the break guard); False if it is live."""
        with open(self.path.with_name(LOCK + '.break'), 'a') as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            if self.holder() is not None:
                return False
            self.path.unlink(missing_ok=True)
            return True

    def release(self) -> None:
        info = _read_record(self.path)
        if info and info.get('pid') == os.getpid() and info.get('host') == socket.gethostname():
            self.path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def held(self, what: str = 'run'):
        """Hold the lock for the block; ``RunBusyError`` naming the holder if it is taken."""
        if not self.acquire():
            raise RunBusyError(f'{self.path.parent} is in use by another {what}: '
                               f'{describe_holder(self.holder())} holds {self.path}; wait for '
                               'it to finish or choose another directory')
        try:
            yield self
        finally:
            self.release()


def describe_holder(holder: dict | None) -> str:
    """``pid P on HOST since TIME`` of a lock record (a holder that just let go: 'a process')."""
    if not holder:
        return 'a process (which has just let go: try again)'
    since = time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(holder.get('since', 0)))
    return f'pid {holder.get("pid")} on {holder.get("host")} since {since}'
