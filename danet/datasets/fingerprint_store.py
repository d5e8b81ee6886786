"""Fingerprints of a packed file or an image folder, computed once and cached.

A packed file keeps them in its ``/fingerprints`` group (``gt``: one row per clean image,
``lq``: one per rainy image; attribute ``version``), written by ``pack`` or on first use. A
folder keeps them in ``.<folder>.fingerprints.npz`` beside it, keyed by each file's relative
path, size and mtime, so changed files are re-fingerprinted. Where that location is read-only
the cache goes to ``$XDG_CACHE_HOME/danet/fingerprints/`` (default ``~/.cache``).
"""
import hashlib
import os
from multiprocessing import Pool
from pathlib import Path

import h5py
import numpy as np
from PIL import Image
from tqdm import tqdm

from danet.datasets import fingerprint as fpm
from danet.datasets import h5format as fmt
from danet.datasets.image_files import LAYOUTS, decode_rgb, discover
from danet.utils.fileio import atomic_path

GROUP = 'fingerprints'


def _fingerprint_file(path: Path) -> np.ndarray:
    return fpm.fingerprint(decode_rgb(path, convert=True)[0])


def _compute(paths: list[Path], label: str, workers: int | None) -> np.ndarray:
    if not paths:
        return np.zeros((0, fpm.GRID * fpm.GRID), np.float32)
    workers = min(workers or os.cpu_count() or 1, len(paths))
    bar = dict(total=len(paths), desc=f'fingerprint {label}', unit='img')
    if workers == 1:
        return np.stack([_fingerprint_file(p) for p in tqdm(paths, **bar)])
    with Pool(workers) as pool:
        return np.stack(list(tqdm(pool.imap(_fingerprint_file, paths, chunksize=8), **bar)))


def _cache_dir() -> Path:
    return Path(os.environ.get('XDG_CACHE_HOME', Path.home() / '.cache')) / 'danet' / 'fingerprints'


def _writable(folder: Path) -> bool:
    """Writable by us and not marked read-only (root passes ``os.access`` on any folder)."""
    return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & 0o222)


def load_fingerprints(source: str | Path, layout: str = 'pairs', split: str | None = None,
                      workers: int | None = None) -> fpm.FingerprintSet:
    """The backgrounds of ``source`` (packed ``.h5`` or folder in ``layout``): its clean images
    (role ``gt``), or its rainy images (role ``lq``) when it has no clean ones. ``split``
    restricts a packed file to the backgrounds of that stored split."""
    source = Path(source)
    if source.is_dir():
        if split is not None:
            raise ValueError(f'{source}: a folder stores no split; pack it with --val-fraction')
        return _folder_fingerprints(source, layout, workers)
    return _packed_fingerprints(source, split, workers)


def packed_roles(packed: fmt.PackedFile) -> dict[str, list]:
    """``{'gt': [...], 'lq': [...]}``: the names of the clean and rainy images of ``packed``."""
    return {'gt': [c['path'] for c in packed.manifest['clean']],
            'lq': [r['name'] for r in packed.manifest['rainy']]}


def _packed_fingerprints(path: Path, split, workers) -> fpm.FingerprintSet:
    packed = fmt.PackedFile(path)
    manifest = packed.manifest
    role = 'gt' if manifest['clean'] else 'lq'
    stored = read_packed_fingerprints(packed)
    if stored is None:
        stored = compute_packed_fingerprints(packed)
        packed.close()  # HDF5 refuses a writer while this process holds a reader
        _store_packed(path, stored)
    packed.close()
    entries = manifest['clean'] if role == 'gt' else manifest['rainy']
    names = packed_roles(packed)[role]
    fps = fpm.FingerprintSet(path.name, role, names, [tuple(e['shape']) for e in entries],
                             stored[role])
    if split is None:
        return fps
    if manifest['split'] is None:
        raise ValueError(f'{path} stores no train/val split (pack it with --val-fraction)')
    rainy = manifest['split'][split]
    keep = sorted({manifest['rainy'][i]['clean'] for i in rainy} - {None}) if role == 'gt' \
        else sorted(rainy)
    return fps.subset(keep)


def read_packed_fingerprints(packed: fmt.PackedFile) -> dict | None:
    """The stored ``{'gt': array, 'lq': array}``, or None if absent or of another version."""
    group = packed.file.get(GROUP)
    if group is None or group.attrs.get('version') != fpm.VERSION:
        return None
    return {role: np.asarray(group[role][()]) for role in ('gt', 'lq')}


def compute_packed_fingerprints(packed: fmt.PackedFile) -> dict:
    out = {}
    for role, count, read in (('gt', len(packed.manifest['clean']), packed.clean_image),
                              ('lq', len(packed), packed.rainy)):
        rows = [fpm.fingerprint(np.asarray(read(i)[()]))
                for i in tqdm(range(count), desc=f'fingerprint {packed.path.name} {role}',
                              unit='img')]
        out[role] = np.stack(rows) if rows else np.zeros((0, fpm.GRID ** 2), np.float32)
    return out


def write_packed_fingerprints(f: h5py.File, fps: dict) -> None:
    """Store ``fps`` (``{'gt': array, 'lq': array}``) in an open, writable packed file."""
    if GROUP in f:
        del f[GROUP]
    group = f.create_group(GROUP)
    group.attrs['version'] = fpm.VERSION
    for role in ('gt', 'lq'):
        group.create_dataset(role, data=np.asarray(fps[role], np.float32))


def _store_packed(path: Path, fps: dict) -> None:
    """Cache into the packed file if it can be written, else leave it uncached (computed again
    next time; packing stores them)."""
    if not (os.access(path, os.W_OK) and path.stat().st_mode & 0o222):
        return
    try:
        with h5py.File(path, 'a') as f:
            write_packed_fingerprints(f, fps)
    except OSError:  # opened elsewhere for writing, or locked: stay uncached
        pass


def _folder_fingerprints(folder: Path, layout: str, workers) -> fpm.FingerprintSet:
    if layout not in LAYOUTS:
        raise ValueError(f'unknown layout {layout!r}; choose one of {", ".join(LAYOUTS)}')
    groups, _ = discover(folder, layout)
    clean = [g.clean for g in groups if g.clean is not None]
    role = 'gt' if clean else 'lq'
    paths = sorted(set(clean)) if clean else [p for g in groups for _, p in g.rainy]
    keys = [(p.relative_to(folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
            for p in paths]
    cache = folder.parent / f'.{folder.name}.fingerprints.npz'
    if not _writable(folder.parent):
        digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:20]
        cache = _cache_dir() / f'{folder.name}-{digest}.npz'
    known = _read_npz(cache)
    missing = [i for i, k in enumerate(keys) if k not in known]
    if missing:
        fresh = _compute([paths[i] for i in missing], folder.name, workers)
        known.update({keys[i]: fresh[n] for n, i in enumerate(missing)})
        _write_npz(cache, {k: known[k] for k in keys})
    shapes = [_shape(p) for p in paths]
    return fpm.FingerprintSet(folder.name, role, [k[0] for k in keys], shapes,
                              np.stack([known[k] for k in keys]) if keys
                              else np.zeros((0, fpm.GRID ** 2), np.float32))


def _shape(path: Path) -> tuple[int, int]:
    with Image.open(path) as img:
        return img.height, img.width


def _read_npz(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data['version']) != fpm.VERSION:
                return {}
            return {(str(n), int(s), int(m)): fp for n, s, m, fp in
                    zip(data['names'], data['sizes'], data['mtimes'], data['fps'],
                        strict=True)}
    except (OSError, KeyError, ValueError):  # a damaged cache is recomputed
        return {}


def _write_npz(path: Path, entries: dict) -> None:
    try:
        with atomic_path(path, suffix='.npz') as tmp:
            with open(tmp, 'wb') as handle:
                np.savez(handle, version=fpm.VERSION,
                         names=np.array([k[0] for k in entries], dtype=str),
                         sizes=np.array([k[1] for k in entries], np.int64),
                         mtimes=np.array([k[2] for k in entries], np.int64),
                         fps=np.stack(list(entries.values())).astype(np.float32))
    except OSError:  # nowhere to cache: fingerprints are recomputed next time
        pass
