"""The run lock: one process at a time works in a run directory (the grid runner's run folders,
a training's ``work_dir``).

``.lock`` holds ``{pid, host, since}``. Taking it is atomic: the holder record is written to a
temporary file first and then hard-linked to ``.lock`` (``os.link`` fails if the lock exists), so
the lock never exists empty or half-written. A lock whose pid is dead on this host is stale; it
is removed under an ``flock`` on ``.lock.break`` after re-checking that it is still stale, so two
takers cannot both break it and both win. A record that is not ``{pid: int > 0, host: str,
since: number}`` (no writer of this module leaves one) is stale too, with a warning. A lock from
another host is never broken (its pid cannot be checked from here); the refusal says which file
to delete once nothing on that host still works in the directory (container hostnames change
on restart). A process whose parent holds the lock works under that hold (the grid runner's
stages: ``tools/test.py --work-dir RUN_DIR`` while the runner holds RUN_DIR).
"""
import contextlib
import fcntl
import json
import os
import signal
import socket
import tempfile
import time
import warnings
from pathlib import Path

from danet.utils.processes import pid_alive

LOCK = '.lock'
STOP_HOLDING = 'DANET_STOP_HOLDING'
"""Test hook: a process that takes a run lock for WHAT (``training``, ``test``, ...) when this
is WHAT stops itself (SIGSTOP) right after, holding it, so that tests catch a holder at a known
point, never by the clock."""
LOCK_FILES = (LOCK, LOCK + '.break')
"""What the lock leaves in a run directory (not the run's own files)."""


class RunBusyError(FileExistsError):
    """Another live process holds the run directory's lock."""


def _read_record(path: Path) -> dict | None:
    """The holder record, or None if there is none or it is malformed (a warning says so)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        return _malformed(path, f'unreadable ({err})')
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        return _malformed(path, f'not JSON: {text[:80]!r}')
    if not isinstance(record, dict):
        return _malformed(path, f'{text[:80]!r} is not a {{pid, host, since}} record')
    pid, host, since = record.get('pid'), record.get('host'), record.get('since')
    if type(pid) is not int or pid <= 0 or not isinstance(host, str) or \
            type(since) not in (int, float) or not 0 <= since < 1e11:
        return _malformed(path, f'{text[:80]!r} lacks a positive int pid, a host or a time')
    return record


def _malformed(path: Path, why: str) -> None:
    warnings.warn(f'{path}: malformed lock record, {why}; treated as stale', stacklevel=3)
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
        if info['host'] == socket.gethostname() and not pid_alive(info['pid']):
            return None
        return info

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {'pid': os.getpid(), 'host': socket.gethostname(), 'since': time.time()}
        fd, tmp = tempfile.mkstemp(prefix=f'{LOCK}.', suffix='.tmp', dir=self.path.parent)
        try:
            try:
                with os.fdopen(fd, 'w') as f:
                    json.dump(record, f)
            except OSError as err:   # a full disk: name the lock, not the hidden temporary
                raise OSError(err.errno, err.strerror, str(self.path)) from None
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

    def held_by_parent(self) -> bool:
        """Whether this process's parent holds the lock (a grid run's stage: the runner holds
        the run folder while it waits for the stage it started there)."""
        holder = self.holder()
        return bool(holder) and holder['host'] == socket.gethostname() and \
            holder['pid'] == os.getppid()

    @contextlib.contextmanager
    def held(self, what: str = 'run'):
        """Hold the lock for the block (or work under the parent's hold, ``held_by_parent``);
        ``RunBusyError`` naming the holder if another process has it."""
        owned = self.acquire()
        if not owned and not self.held_by_parent():
            holder = self.holder()
            how = 'wait for it to finish or choose another directory'
            if holder and holder['host'] != socket.gethostname():
                how = (f'it was taken on another host ({holder["host"]}, this is '
                       f'{socket.gethostname()}) and cannot be checked from here: if no process '
                       f'there still works in this directory (a restarted container gets a new '
                       f'hostname), delete {self.path} and run again; else {how}')
            raise RunBusyError(f'{self.path.parent} is in use by another {what}: '
                               f'{describe_holder(holder)} holds {self.path}; {how}')
        if owned and os.environ.get(STOP_HOLDING) == what:
            os.kill(os.getpid(), signal.SIGSTOP)
        try:
            yield self
        finally:
            if owned:
                self.release()


def describe_holder(holder: dict | None) -> str:
    """``pid P on HOST since TIME`` of a lock record (a holder that just let go: 'a process')."""
    if not holder:
        return 'a process (which has just let go: try again)'
    since = time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(holder['since']))
    return f'pid {holder["pid"]} on {holder["host"]} since {since}'
