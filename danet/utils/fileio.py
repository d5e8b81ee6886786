"""Atomic file writes: outputs appear complete under their final name or not at all."""
import errno
import json
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = '') -> Iterator[Path]:
    """Yield a temporary path beside ``path``, renamed onto ``path`` if the block succeeds; an
    ``OSError`` of the block without a file name (a full disk) is raised again naming ``path``.

    The file gets the mode a plain ``open(path, 'w')`` would give it: that of the file it
    replaces, else ``0o666`` less the umask.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_sibling(path, suffix + '.tmp')
    try:
        yield tmp
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        except FileNotFoundError:
            pass
        os.replace(tmp, path)
    except OSError as err:  # a full disk: name the output, not the hidden temporary
        if err.errno is None or err.filename not in (None, str(tmp)):
            raise
        raise OSError(err.errno, err.strerror, str(path)) from err
    finally:
        tmp.unlink(missing_ok=True)


def _create_sibling(path: Path, suffix: str) -> Path:
    """Create an empty, new hidden file beside ``path`` with mode ``0o666`` less the umask
    (``mkstemp`` would give ``0o600`` whatever the umask)."""
    while True:
        tmp = path.with_name(f'.{path.name}.{secrets.token_hex(4)}{suffix}')
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a new folder beside ``path``, renamed onto ``path`` (absent or empty) if the block
    succeeds and removed with its contents otherwise. A refused rename (``path`` a non-empty
    folder or a file) is an ``OSError`` naming ``path``, not the hidden temporary."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f'.{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp')
    tmp.mkdir()
    try:
        yield tmp
        try:
            os.replace(tmp, path)
        except OSError as err:
            why = err.strerror
            if err.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                why = 'exists and is not an empty folder'
            raise OSError(err.errno, why, str(path)) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_json(path: str | os.PathLike, obj, indent: int = 2) -> None:
    atomic_write_text(path, json.dumps(obj, indent=indent, sort_keys=False) + '\n')


def human_bytes(count: float) -> str:
    """``count`` bytes in the unit that reads best (KiB, MiB, GiB), three significant digits."""
    for unit, size in (('GiB', 2 ** 30), ('MiB', 2 ** 20), ('KiB', 2 ** 10)):
        if count >= size:
            value = count / size
            return f'{value:.{2 if value < 10 else 1 if value < 100 else 0}f} {unit}'
    return f'{int(count)} bytes'
