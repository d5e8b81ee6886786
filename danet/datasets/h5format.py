"""The packed-dataset HDF5 layout, its hashes, and the reader shared by ``data_tools`` and datasets.

Layout of a packed file (format version 4)::

    /lq/000000, /lq/000001, ...   degraded inputs (rainy): ``storage`` raw = uint8 H×W×3 RGB
                                  chunked CHUNK×CHUNK×3; encoded = the PNG file's bytes (1-D uint8)
    /gt/000000, ...               targets (clean), stored alike, each background once
    /manifest                     column tables (``danet.datasets.manifest``)
    /card                         JSON string: the dataset card (``danet.datasets.card``)
    /fingerprints/{gt,lq}         perceptual fingerprints (``danet.datasets.fingerprint_store``)
    /card_metrics                 [rainy index, PSNR, SSIM] of the pairs the card measured
    attrs: format_version, packer_version, layout, command, source, created, content_hash,
           num_rainy, num_clean, storage, plan_key, and ``shards`` (JSON) for an index file

A sharded set is an index file whose image entries are HDF5 external links into shard files
beside it (each itself a complete packed file), so it reads exactly like one file.
Groups are named by role (``lq``/``gt``), so dehazing or low-light sets fit the same layout.
Version 3 files (manifest as one JSON document), version 2 files (always raw) and version 1
files (groups ``rainy``/``clean``, no card or fingerprints) are still read.

Manifest JSON of versions 1-3: ``rainy`` — one entry per rainy image, in file order: ``name``
(path relative to the source's rainy folder), ``path`` (relative to the source), ``shape``
[H, W], ``sha256``, ``clean`` (index into ``clean`` or null), optional ``converted``; ``clean``
— ``path``, ``shape``, ``sha256``, optional ``converted``; ``skipped`` — ``[path, reason]`` of
files left out by ``--skip-bad``; ``split`` — null or ``{"train": [...], "val": [...]}``.
"""
import json
import os
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

from danet.datasets.image_files import decode_png
from danet.datasets.manifest import COLUMNS, Manifest
from danet.utils.hashing import ground_truth_hash

FORMAT_VERSION = 4
CHUNK = 64
LQ, GT, MANIFEST, CARD = 'lq', 'gt', 'manifest', 'card'
# format_version -> (degraded group, target group)
GROUPS = {1: ('rainy', 'clean'), 2: (LQ, GT), 3: (LQ, GT), 4: (LQ, GT)}


def image_key(index: int) -> str:
    return f'{index:06d}'


READ_ERRORS = (OSError, RuntimeError, KeyError, IndexError, ValueError, TypeError,
               AttributeError)
"""What h5py (and the JSON and PNG decoders under it, and code reading the decoded card)
raise on damaged bytes."""


class DamagedFileError(ValueError):
    """A packed file that cannot be read, or whose tables contradict each other: one line
    naming the file. Raised by :func:`reading` only (a reader's one place)."""

    def __init__(self, message: str):
        # A DataLoader worker's error is re-raised in the main process as this type built from
        # 'Caught DamagedFileError in DataLoader worker process N.\nOriginal Traceback ...':
        # keep the worker's own message, the one line.
        if '\n' in message:
            message = message.rstrip().rsplit('DamagedFileError: ', 1)[-1]
        super().__init__(message)


@contextmanager
def reading(path: str | Path, what: str = ''):
    """Every read of a packed file runs in this block: any HDF5, JSON or decoder failure
    becomes one ``DamagedFileError`` line naming ``path`` (and ``what`` was being read)."""
    try:
        yield
    except DamagedFileError:
        raise
    except FileNotFoundError as err:
        if Path(path).exists():  # a missing shard, not a missing file
            raise DamagedFileError(_message(path, what, err)) from None
        raise
    except READ_ERRORS as err:
        raise DamagedFileError(_message(path, what, err)) from None


def _message(path, what: str, err: Exception) -> str:
    detail = ' '.join(str(err.args[0] if isinstance(err, KeyError) and err.args else err)
                      .split())
    return (f'{path}: damaged packed file, cannot read {what or "it"} '
            f'({type(err).__name__}: {detail[:300]}); re-pack it or restore a copy')


class LazyArray:
    """An HDF5 dataset read through :func:`reading`: ``shape``, ``dtype``, ``len`` and
    slicing (``[()]`` reads all, a window reads only the chunks it touches)."""

    def __init__(self, dataset: h5py.Dataset, path: Path, what: str):
        self._dataset, self._path, self._what = dataset, path, what
        with reading(path, what):
            self.shape, self.dtype = tuple(dataset.shape), dataset.dtype
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index):
        with reading(self._path, self._what):
            return self._dataset[index]

    def __array__(self, dtype=None, copy=None):
        array = self[()]
        return array if dtype is None else array.astype(dtype)


class PackedFile:
    """Read access to a packed file, opened lazily and re-opened in each process.

    Safe to pickle into DataLoader workers: the handle is dropped and each process (detected by
    its pid) opens its own read-only handle on first use. Every read goes through
    :func:`reading` (a damaged file raises ``DamagedFileError``); opening checks that the
    manifest's tables fit together (lengths, clean indices, split labels, counts).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f'packed dataset not found: {self.path}')
        self._handle, self._pid = None, None
        with self.reading('its header'), h5py.File(self.path, 'r') as f:
            self.attrs = {k: _plain(v) for k, v in f.attrs.items()}
            version = self.attrs.get('format_version')
            if version not in GROUPS:
                raise ValueError(f'format_version {version!r}; this reader reads '
                                 f'{", ".join(map(str, GROUPS))} (not a packed dataset, or one '
                                 'written by a newer packer)')
        with self.reading('its manifest'), h5py.File(self.path, 'r') as f:
            self.manifest = (Manifest.from_group(f[MANIFEST], self._manifest_group, self.reading)
                             if version >= 4 else
                             Manifest.from_json(json.loads(f[MANIFEST][()])))
            self.lq_group, self.gt_group = GROUPS[version]
            self.encoded = self.attrs.get('storage', 'raw') == 'encoded'
            self.shards = json.loads(self.attrs['shards']) if 'shards' in self.attrs else []
            check_tables(self, f)

    def reading(self, what: str = ''):
        """:func:`reading` for this file."""
        return reading(self.path, what)

    @property
    def file(self) -> h5py.File:
        if self._handle is None or self._pid != os.getpid():
            with self.reading():
                self._handle, self._pid = h5py.File(self.path, 'r'), os.getpid()
        return self._handle

    def _manifest_group(self) -> h5py.Group:
        return self.file[MANIFEST]

    @property
    def content_hash(self) -> str:
        return self.attrs['content_hash']

    @property
    def ground_truth_hash(self) -> str | None:
        """``ground_truth_hash`` of the clean images (None for rainy-only sets)."""
        clean = self.manifest.column('clean', 'sha256')
        return ground_truth_hash(clean) if len(clean) else None

    def rainy(self, index: int):
        """The rainy image: a ``LazyArray`` for raw storage (slicing reads only the chunks it
        touches), the decoded uint8 array for encoded storage."""
        return self._image(self.lq_group, index)

    def _image(self, group: str, index: int):
        key = f'{group}/{image_key(index)}'
        with self.reading(f'{key}{self._shard_hint(index, group)}'):
            stored = self.file[key]
            if not self.encoded:
                return LazyArray(stored, self.path, key)
            return decode_png(stored[()])

    def _shard_hint(self, index: int, group: str) -> str:
        count = 'num_clean' if group == self.gt_group else 'num_rainy'
        for shard in self.shards:
            if index < shard[count]:
                return f' (in shard {self.path.parent / shard["file"]})'
            index -= shard[count]
        return ''

    def clean(self, index: int):
        """The clean image paired with rainy image ``index`` (as ``rainy``), or None."""
        clean = self.manifest.clean_index[index]
        return None if clean < 0 else self.clean_image(int(clean))

    def clean_image(self, clean_index: int):
        """Clean image number ``clean_index`` of the manifest's ``clean`` list (as ``rainy``)."""
        return self._image(self.gt_group, clean_index)

    @property
    def card(self) -> dict | None:
        """The stored dataset card (None for files packed before cards existed)."""
        with self.reading(CARD):
            if CARD not in self.file:
                return None
            card = json.loads(self.file[CARD][()])
            if not isinstance(card, dict):
                raise TypeError(f'the card is a {type(card).__name__}, not a JSON object')
            return card

    def __len__(self) -> int:
        return self.manifest.num_rainy

    def close(self):
        if self._handle is not None and self._pid == os.getpid():
            self._handle.close()
        self._handle = None

    def __getstate__(self):
        return {**self.__dict__, '_handle': None, '_pid': None}


def check_tables(packed: PackedFile, f: h5py.File) -> None:
    """Raise ``ValueError`` (inside :func:`reading`: ``DamagedFileError``) where the attributes
    and the manifest's tables do not fit together; reads only their sizes, the clean indices
    and the split labels."""
    m = packed.manifest
    if not isinstance(packed.attrs.get('content_hash'), str):
        raise KeyError('the content_hash attribute is missing')
    for key, count in (('num_rainy', m.num_rainy), ('num_clean', m.num_clean)):
        if packed.attrs.get(key) != count:
            raise ValueError(f'attribute {key}={packed.attrs.get(key)!r} but the manifest '
                             f'has {count}')
    if m.clean_index.ndim != 1 or not ((m.clean_index >= -1) & (m.clean_index < m.num_clean)
                                       ).all():
        raise ValueError(f'the manifest\'s clean index points outside its {m.num_clean} '
                         'clean images')
    if m.split_labels is not None and (m.split_labels.shape != (m.num_rainy,) or
                                 not np.isin(m.split_labels, (0, 1)).all()):
        raise ValueError('the manifest\'s split labels are not one 0/1 per rainy image')
    if packed.attrs.get('storage', 'raw') not in ('raw', 'encoded'):
        raise ValueError(f'unknown storage {packed.attrs.get("storage")!r}')
    if packed.attrs.get('format_version', 0) >= 4:
        for role, cols in COLUMNS.items():
            count = m.num_rainy if role == 'rainy' else m.num_clean
            for c in cols:
                shape = f[f'{MANIFEST}/{role}/{c}'].shape
                if shape != ((count, 2) if c == 'shape' else (count,)):
                    raise ValueError(f'manifest column {role}/{c} has shape {shape}, '
                                     f'expected {count} rows')


def _plain(value):
    """HDF5 attribute → plain Python (numpy scalars and bytes become int/str)."""
    if isinstance(value, bytes):
        return value.decode()
    return value.item() if isinstance(value, np.generic) else value
