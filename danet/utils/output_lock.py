"""One writer per output folder (``eval_folder``'s ``--out-dir``, ``derain``'s OUTPUT_DIR,
``device_check``'s ``--out-dir``): the folder's ``RunLock`` held for the whole command, so a
second writer exits 2 naming the holder before any work, and a folder the command created is
removed again when it fails before writing anything."""
import contextlib
from collections.abc import Iterator
from pathlib import Path

from danet.utils.run_lock import LOCK_FILES, RunLock


@contextlib.contextmanager
def output_lock(folder: str | Path, what: str) -> Iterator[Path]:
    """Hold ``folder``'s lock for the block (``RunBusyError`` names the holder); ``what`` names
    the command in that message."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f'{folder}: exists and is not a folder')
    created = not folder.exists()
    try:
        with RunLock(folder).held(what):
            yield folder
    finally:
        if created and folder.is_dir():
            for name in LOCK_FILES:
                (folder / name).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                folder.rmdir()   # only when empty: the command wrote nothing
