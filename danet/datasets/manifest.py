"""A packed file's manifest as column tables, read and written in blocks (memory flat in N).

Format version 4 stores it as the group ``/manifest``::

    rainy/name, rainy/path, rainy/converted   variable-length UTF-8 strings ('' = not converted)
    rainy/shape                               int32 N×2 [H, W]
    rainy/sha256                              S64 pixel hash (``danet.utils.hashing.pixel_hash``)
    rainy/clean                               int64 index into ``clean`` (-1 = no target)
    clean/path, clean/converted, clean/shape, clean/sha256
    split                                     int8 per rainy image: 0 train, 1 val (when split)
    extra                                     JSON string: ``skipped``, ``excluded``, ``synthesis``

Versions 1-3 stored one JSON document (``h5format``'s docstring); ``Manifest.from_json`` reads
it into the same tables, so every reader has one interface whatever the version.
"""
import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator

import h5py
import numpy as np

COLUMNS = {'rainy': ('name', 'path', 'shape', 'sha256', 'clean', 'converted'),
           'clean': ('path', 'shape', 'sha256', 'converted')}
STRINGS = ('name', 'path', 'converted')
BLOCK = 4096
"""Rows read or buffered at a time."""
SPLITS = ('train', 'val')


def _dtype(column: str):
    if column in STRINGS:
        return h5py.string_dtype()
    return {'shape': np.int32, 'sha256': 'S64', 'clean': np.int64}[column]


def _plain(column: str, values) -> np.ndarray:
    """Stored values → numpy: str objects, int arrays, or sha256 as str objects."""
    values = np.asarray(values)
    if column == 'sha256' or values.dtype.kind in 'SO':
        return np.array([v.decode() if isinstance(v, bytes) else v for v in values], object)
    return values


class Manifest:
    """Column access to a manifest: ``rows``/``column`` read in blocks, ``clean_index`` (one
    int per rainy image) held in memory, ``split``, ``skipped``, ``excluded``, ``synthesis``.

    ``group`` is a zero-argument callable returning the ``/manifest`` HDF5 group (re-opened in
    each process by ``PackedFile``), or None for tables held in memory (``from_json``);
    ``reading(what)`` is the context every table read runs in (``h5format.reading``: a damaged
    file becomes one error line naming it).
    """

    def __init__(self, group: Callable | None, extra: dict, clean_index: np.ndarray,
                 num_clean: int, split: np.ndarray | None, memory: dict | None = None,
                 reading: Callable = lambda what: contextlib.nullcontext()):
        self._group, self._memory, self._reading = group, memory, reading
        self.clean_index = clean_index
        self.num_rainy, self.num_clean = len(clean_index), num_clean
        self.skipped = extra.get('skipped', [])
        self.excluded = extra.get('excluded', [])
        self.synthesis = extra.get('synthesis')
        self.split_labels = split
        """0 (train) / 1 (val) per rainy image, or None."""

    @classmethod
    def from_group(cls, group: h5py.Group, reopen: Callable,
                   reading: Callable = lambda what: contextlib.nullcontext()) -> 'Manifest':
        split = np.asarray(group['split'][()]) if 'split' in group else None
        extra = json.loads(group['extra'][()])
        if not isinstance(extra, dict):
            raise TypeError(f'manifest extra is a {type(extra).__name__}, not a JSON object')
        return cls(reopen, extra, np.asarray(group['rainy/clean'][()]),
                   len(group['clean/sha256']), split, reading=reading)

    @classmethod
    def from_json(cls, doc: dict) -> 'Manifest':
        """The tables of a version 1-3 manifest (one JSON document) held in memory."""
        memory = {}
        for role, rows in (('rainy', doc['rainy']), ('clean', doc['clean'])):
            table = {c: [r.get(c) or '' for r in rows] for c in STRINGS if c in COLUMNS[role]}
            table['shape'] = np.array([r['shape'] for r in rows], np.int32).reshape(-1, 2)
            table['sha256'] = [r['sha256'] for r in rows]
            if role == 'rainy':
                table['clean'] = np.array([-1 if r['clean'] is None else r['clean']
                                           for r in rows], np.int64)
            memory[role] = {c: _plain(c, v) if c != 'shape' else v for c, v in table.items()}
        split = None
        if doc.get('split') is not None:
            split = np.zeros(len(doc['rainy']), np.int8)
            split[list(doc['split']['val'])] = 1
        return cls(None, doc, memory['rainy']['clean'], len(doc['clean']), split, memory)

    def __len__(self) -> int:
        return self.num_rainy

    def column(self, role: str, name: str, start: int = 0, stop: int | None = None
               ) -> np.ndarray:
        """Rows ``start:stop`` of one column (strings and hashes as str objects)."""
        if self._memory is not None:
            return self._memory[role][name][start:stop]
        with self._reading(f'manifest column {role}/{name}'):
            return _plain(name, self._group()[f'{role}/{name}'][start:stop])

    def rows(self, role: str, start: int = 0, stop: int | None = None) -> Iterator[dict]:
        """Rows of ``role`` (``rainy``/``clean``) as dicts, read ``BLOCK`` at a time:
        ``name`` (rainy), ``path``, ``shape`` [H, W], ``sha256``, ``clean`` (rainy: index or
        None), ``converted`` (omitted when not)."""
        if stop is None:
            stop = self.num_rainy if role == 'rainy' else self.num_clean
        for block in range(start, stop, BLOCK):
            end = min(block + BLOCK, stop)
            cols = {c: self.column(role, c, block, end) for c in COLUMNS[role]}
            for k in range(end - block):
                row = {c: cols[c][k] for c in COLUMNS[role]}
                row['shape'] = [int(v) for v in row['shape']]
                if role == 'rainy':
                    row['clean'] = None if row['clean'] < 0 else int(row['clean'])
                if not row['converted']:
                    del row['converted']
                yield row

    def rainy(self, index: int) -> dict:
        return next(self.rows('rainy', index, index + 1))

    def clean(self, index: int) -> dict:
        return next(self.rows('clean', index, index + 1))

    @property
    def split(self) -> dict[str, list[int]] | None:
        """``{'train': rainy indices, 'val': rainy indices}``, or None if the pack had none."""
        if self.split_labels is None:
            return None
        return {name: np.flatnonzero(self.split_labels == k).tolist()
                for k, name in enumerate(SPLITS)}


def content_hash(manifest: Manifest) -> str:
    """One hash of the dataset's content: every rainy name with its pixel hash and its clean
    image's pixel hash, sorted. Independent of source paths, packing order, compression,
    chunking and format version (the same bytes as versions 1-3 hashed: the JSON list of
    ``[name, sha256, clean sha256 or '']`` rows, sorted)."""
    names = np.array([n.encode() for n in manifest.column('rainy', 'name')], bytes)
    sha = np.array(manifest.column('rainy', 'sha256'), 'S64')
    clean_sha = np.array(manifest.column('clean', 'sha256'), 'S64')
    index = manifest.clean_index
    theirs = np.where(index >= 0, clean_sha[np.maximum(index, 0)] if len(clean_sha) else b'',
                      b'').astype('S64')
    order = np.lexsort((theirs, sha, names))
    digest = hashlib.sha256(b'[')
    for k, i in enumerate(order):
        row = [names[i].decode(), sha[i].decode(), theirs[i].decode()]
        digest.update((', ' if k else '').encode() + json.dumps(row).encode())
    digest.update(b']')
    return digest.hexdigest()


class ManifestWriter:
    """Appends rows to the ``/manifest`` tables of a file being written, ``BLOCK`` at a time."""

    def __init__(self, f: h5py.File, name: str = 'manifest', rows: int = BLOCK):
        """``rows``: about how many rows will be written (chunks are sized to it, up to
        ``BLOCK``, so a small set does not preallocate chunks of 4,096 rows)."""
        self.group = f.create_group(name)
        self._buffers = {role: {c: [] for c in cols} for role, cols in COLUMNS.items()}
        self.counts = {'rainy': 0, 'clean': 0}
        chunk = min(BLOCK, max(1, rows))
        for role, cols in COLUMNS.items():
            for c in cols:
                shape = (0, 2) if c == 'shape' else (0,)
                self.group.create_dataset(f'{role}/{c}', shape=shape, dtype=_dtype(c),
                                          maxshape=(None,) + shape[1:], chunks=(chunk,) + shape[1:])

    def append(self, role: str, row: dict) -> int:
        """Add one row (keys as ``Manifest.rows`` gives them); return its index."""
        buffer = self._buffers[role]
        for c in COLUMNS[role]:
            value = row.get(c)
            if c == 'clean':
                value = -1 if value is None else value
            buffer[c].append(value or '' if c in STRINGS else value)
        index = self.counts[role] + len(buffer['sha256']) - 1
        if len(buffer['sha256']) >= BLOCK:
            self._flush(role)
        return index

    def extend(self, role: str, columns: dict) -> None:
        """Add a block of rows given as columns (``Manifest.column``'s values)."""
        self._flush(role)
        count = len(columns['sha256'])
        for c in COLUMNS[role]:
            self._write(role, c, columns[c], count)
        self.counts[role] += count

    def flush(self) -> None:
        """Write the buffered rows of both tables."""
        for role in COLUMNS:
            self._flush(role)

    def _flush(self, role: str) -> None:
        buffer = self._buffers[role]
        count = len(buffer['sha256'])
        if count:
            for c in COLUMNS[role]:
                self._write(role, c, buffer[c], count)
                buffer[c].clear()
            self.counts[role] += count

    def _write(self, role: str, column: str, values, count: int) -> None:
        data = self.group[f'{role}/{column}']
        start = self.counts[role]
        data.resize(start + count, axis=0)
        if column == 'sha256':
            values = np.array([v.encode() if isinstance(v, str) else v for v in values], 'S64')
        elif column == 'shape':
            values = np.asarray(values, np.int32).reshape(-1, 2)
        elif column == 'clean':
            values = np.asarray(values, np.int64)
        else:
            values = np.array(list(values), object)
        if count:
            data[start:start + count] = values

    def close(self, extra: dict, split: np.ndarray | None = None) -> None:
        """Flush the tables and write ``extra`` (skipped, excluded, synthesis) and ``split``."""
        self.flush()
        if split is not None:
            self.group.create_dataset('split', data=np.asarray(split, np.int8))
        self.group.create_dataset('extra', data=json.dumps(extra))
