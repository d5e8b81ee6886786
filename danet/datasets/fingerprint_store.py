"""Fingerprints of a packed file or an image folder, computed once and cached by content.

A packed file keeps them in its ``/fingerprints`` group (``gt``: one row per clean image,
``lq``: one per rainy image; attribute ``version``), written by ``pack``. Inputs are read-only:
fingerprints of a file packed without them, and of folders, go to the cache folder
``$XDG_CACHE_HOME/danet/fingerprints/`` (default ``~/.cache``), keyed by content (the packed
file's content hash; each folder image's SHA-256 of its bytes), so a replaced file is
fingerprinted again whatever its size and mtime. ``cache_in_place=True`` writes them into a
packed file that lacks them instead.
"""
import errno
import hashlib
import os
import shutil
from multiprocessing import Pool
from pathlib import Path

import h5py
import numpy as np
from tqdm import tqdm

from danet.datasets import fingerprint as fpm
from danet.datasets import h5format as fmt
from danet.datasets.image_files import LAYOUTS, BadInputError, decode_rgb, discover
from danet.utils.fileio import atomic_path, human_bytes
from danet.utils.hashing import file_sha256

GROUP = 'fingerprints'


def _fingerprint_file(path: Path) -> tuple:
    """``(fingerprint, (H, W), None)``, or ``(None, None, reason)`` for an unreadable file."""
    try:
        img = decode_rgb(path, convert=True)[0]
    except Exception as err:  # any decoder failure: reported with the file's path
        return None, None, f'{type(err).__name__}: {err}'
    return fpm.fingerprint(img), img.shape[:2], None


def _map(func, paths: list[Path], label: str, workers: int | None) -> list:
    if not paths:
        return []
    workers = min(workers or os.cpu_count() or 1, len(paths))
    bar = dict(total=len(paths), desc=label, unit='img')
    if workers == 1:
        return [func(p) for p in tqdm(paths, **bar)]
    with Pool(workers) as pool:
        return list(tqdm(pool.imap(func, paths, chunksize=8), **bar))


def _cache_dir() -> Path:
    return Path(os.environ.get('XDG_CACHE_HOME', Path.home() / '.cache')) / 'danet' / 'fingerprints'


def load_fingerprints(source: str | Path, layout: str = 'pairs', split: str | None = None,
                      workers: int | None = None, cache_in_place: bool = False
                      ) -> fpm.FingerprintSet:
    """The backgrounds of ``source`` (packed ``.h5`` or folder in ``layout``): its clean images
    (role ``gt``), or its rainy images (role ``lq``) when it has no clean ones. ``split``
    restricts a packed file to the backgrounds of that stored split. Raises ``BadInputError``
    for a set without images or with unreadable ones (named by path)."""
    source = Path(source)
    if source.is_dir():
        if split is not None:
            raise ValueError(f'{source}: a folder stores no split; pack it with --val-fraction')
        return _folder_fingerprints(source, layout, workers)
    return _packed_fingerprints(source, split, cache_in_place)


def packed_roles(packed: fmt.PackedFile) -> dict[str, list]:
    """``{'gt': [...], 'lq': [...]}``: the names of the clean and rainy images of ``packed``."""
    return {'gt': list(packed.manifest.column('clean', 'path')),
            'lq': list(packed.manifest.column('rainy', 'name'))}


def _packed_fingerprints(path: Path, split, cache_in_place: bool) -> fpm.FingerprintSet:
    packed = fmt.PackedFile(path)
    manifest = packed.manifest
    role = 'gt' if manifest.num_clean else 'lq'
    stored = read_packed_fingerprints(packed)
    cache = _cache_dir() / f'packed-{packed.content_hash}-v{fpm.VERSION}.npz'
    if stored is None and not cache_in_place:
        stored = _read_npz(cache, ('gt', 'lq'))
    if stored is None:
        stored = compute_packed_fingerprints(packed)
        packed.close()  # HDF5 refuses a writer while this process holds a reader
        if cache_in_place:
            _store_packed(path, stored)
        else:
            _write_npz(cache, stored)
    names = packed_roles(packed)[role]
    shapes = manifest.column('clean' if role == 'gt' else 'rainy', 'shape')
    fps = fpm.FingerprintSet(path.name, role, names, [tuple(map(int, s)) for s in shapes],
                             stored[role])
    if split is None:
        return fps
    if manifest.split is None:
        raise ValueError(f'{path} stores no train/val split (pack it with --val-fraction)')
    rainy = manifest.split[split]
    keep = sorted(set(manifest.clean_index[rainy].tolist()) - {-1}) if role == 'gt' \
        else sorted(rainy)
    return fps.subset(keep)


def read_packed_fingerprints(packed: fmt.PackedFile) -> dict | None:
    """The stored ``{'gt': dataset, 'lq': dataset}`` (``h5format.LazyArray``, read in blocks by
    ``fingerprint.match``: memory does not grow with the set; valid while ``packed`` stays
    open), or None if absent or of another version."""
    with packed.reading(GROUP):
        group = packed.file.get(GROUP)
        if group is None or group.attrs.get('version') != fpm.VERSION:
            return None
        return {role: fmt.LazyArray(group[role], packed.path, f'{GROUP}/{role}')
                for role in ('gt', 'lq')}


def compute_packed_fingerprints(packed: fmt.PackedFile) -> dict:
    out = {}
    for role, count, read in (('gt', packed.manifest.num_clean, packed.clean_image),
                              ('lq', len(packed), packed.rainy)):
        rows = [fpm.fingerprint(np.asarray(read(i)[()]))
                for i in tqdm(range(count), desc=f'fingerprint {packed.path.name} {role}',
                              unit='img')]
        out[role] = np.stack(rows) if rows else np.zeros((0, fpm.GRID ** 2), np.float32)
    return out


class FingerprintWriter:
    """Appends fingerprints to the ``/fingerprints`` group of a packed file being written, a
    block of rows at a time (memory flat in the number of images)."""

    BLOCK = 1024

    def __init__(self, f: h5py.File, rows: int = BLOCK):
        """``rows``: about how many rows a role will get (chunks sized to it, up to ``BLOCK``)."""
        self.group = f.create_group(GROUP)
        self.group.attrs['version'] = fpm.VERSION
        width, chunk = fpm.GRID ** 2, min(self.BLOCK, max(1, rows))
        for role in ('gt', 'lq'):
            self.group.create_dataset(role, shape=(0, width), maxshape=(None, width),
                                      dtype=np.float32, chunks=(chunk, width))
        self._buffers = {'gt': [], 'lq': []}

    def append(self, role: str, fp: np.ndarray) -> None:
        self._buffers[role].append(fp)
        if len(self._buffers[role]) >= self.BLOCK:
            self._flush(role)

    def extend(self, role: str, rows) -> None:
        """Add ``rows`` (an array or an HDF5 dataset, copied a block at a time)."""
        self._flush(role)
        for start in range(0, len(rows), self.BLOCK):
            self._write(role, np.asarray(rows[start:start + self.BLOCK], np.float32))

    def close(self) -> None:
        for role in self._buffers:
            self._flush(role)

    def _flush(self, role: str) -> None:
        if self._buffers[role]:
            self._write(role, np.stack(self._buffers[role]).astype(np.float32))
            self._buffers[role].clear()

    def _write(self, role: str, rows: np.ndarray) -> None:
        data = self.group[role]
        start = len(data)
        data.resize(start + len(rows), axis=0)
        data[start:] = rows


def write_packed_fingerprints(f: h5py.File, fps: dict) -> None:
    """Store ``fps`` (``{'gt': array, 'lq': array}``) in an open, writable packed file."""
    if GROUP in f:
        del f[GROUP]
    group = f.create_group(GROUP)
    group.attrs['version'] = fpm.VERSION
    for role in ('gt', 'lq'):
        group.create_dataset(role, data=np.asarray(fps[role], np.float32))


def _store_packed(path: Path, fps: dict) -> None:
    """Write into the packed file (``--cache-in-place``); refuse if it cannot be written."""
    if not (os.access(path, os.W_OK) and path.stat().st_mode & 0o222):
        raise PermissionError(f'{path} is read-only: cannot cache fingerprints in place')
    need = sum(np.asarray(v).nbytes for v in fps.values()) + (1 << 20)
    free = shutil.disk_usage(path.parent).free
    if free < need:  # HDF5 meeting a full disk crashes h5py: stop before, the file untouched
        raise OSError(errno.ENOSPC, f'cannot cache fingerprints in {path}: {human_bytes(free)} '
                      f'free on its device, {human_bytes(need)} needed (leave out '
                      '--cache-in-place)')
    with h5py.File(path, 'a') as f:
        write_packed_fingerprints(f, fps)


def _folder_fingerprints(folder: Path, layout: str, workers) -> fpm.FingerprintSet:
    if layout not in LAYOUTS:
        raise ValueError(f'unknown layout {layout!r}; choose one of {", ".join(LAYOUTS)}')
    groups, problems = discover(folder, layout)
    if not groups:
        raise BadInputError(problems or [(str(folder), 'no images')],
                            f'{folder}: no images to compare in layout {layout!r}')
    clean = [g.clean for g in groups if g.clean is not None]
    role = 'gt' if clean else 'lq'
    paths = sorted(set(clean)) if clean else [p for g in groups for _, p in g.rainy]
    digests = _map(file_sha256, paths, f'hash {folder.name}', workers)
    cache = _cache_dir() / (f'{folder.name}-'
                            f'{hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:20]}.npz')
    known = _read_npz(cache, ('digests', 'fps', 'shapes')) or {}
    known = {d: (fp, tuple(shape)) for d, fp, shape in zip(
        known.get('digests', []), known.get('fps', []), known.get('shapes', []), strict=True)}
    missing = sorted({d: p for d, p in zip(digests, paths, strict=True)
                      if d not in known}.items())
    fresh = _map(_fingerprint_file, [p for _, p in missing], f'fingerprint {folder.name}',
                 workers)
    bad = [(str(p), reason) for (_, p), (_, _, reason) in zip(missing, fresh, strict=True)
           if reason]
    if bad:
        raise BadInputError(bad, f'cannot fingerprint {folder}')
    known.update({d: (fp, shape) for (d, _), (fp, shape, _) in zip(missing, fresh, strict=True)})
    if missing:
        kept = sorted(set(digests))
        _write_npz(cache, {'digests': np.array(kept, dtype=str),
                           'fps': np.stack([known[d][0] for d in kept]).astype(np.float32),
                           'shapes': np.array([known[d][1] for d in kept], np.int64)})
    return fpm.FingerprintSet(folder.name, role,
                              [p.relative_to(folder).as_posix() for p in paths],
                              [tuple(int(n) for n in known[d][1]) for d in digests],
                              np.stack([known[d][0] for d in digests]))


def _read_npz(path: Path, keys: tuple[str, ...]) -> dict | None:
    """The arrays ``keys`` of a cache file, or None if absent, damaged or of another version."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data['version']) != fpm.VERSION:
                return None
            return {key: data[key] for key in keys}
    except (OSError, KeyError, ValueError):  # a damaged cache is recomputed
        return None


def _write_npz(path: Path, arrays: dict) -> None:
    try:
        with atomic_path(path, suffix='.npz') as tmp:
            with open(tmp, 'wb') as handle:
                np.savez(handle, version=fpm.VERSION, **arrays)
    except OSError:  # nowhere to cache: fingerprints are recomputed next time
        pass
