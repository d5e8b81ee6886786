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
from pathlib import Path

import h5py
import numpy as np

from danet.datasets.manifest import Manifest
from danet.utils.hashing import ground_truth_hash

FORMAT_VERSION = 4
CHUNK = 64
LQ, GT, MANIFEST, CARD = 'lq', 'gt', 'manifest', 'card'
# format_version -> (degraded group, target group)
GROUPS = {1: ('rainy', 'clean'), 2: (LQ, GT), 3: (LQ, GT), 4: (LQ, GT)}


def image_key(index: int) -> str:
    return f'{index:06d}'


class PackedFile:
    """Read access to a packed file, opened lazily and re-opened in each process.

    Safe to pickle into DataLoader workers: the handle is dropped and each process (detected by
    its pid) opens its own read-only handle on first use.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f'packed dataset not found: {self.path}')
        self._handle, self._pid = None, None
        try:
            with h5py.File(self.path, 'r') as f:
                self.attrs = {k: _plain(v) for k, v in f.attrs.items()}
                version = self.attrs.get('format_version')
                if version not in GROUPS:
                    raise _Unreadable(f'{self.path}: format_version {version!r}, this reader '
                                      f'reads {", ".join(map(str, GROUPS))}')
                self.manifest = (Manifest.from_group(f[MANIFEST], self._manifest_group)
                                 if version >= 4 else
                                 Manifest.from_json(json.loads(f[MANIFEST][()])))
        except _Unreadable as err:
            raise ValueError(str(err)) from None
        except (OSError, KeyError, ValueError) as err:
            raise ValueError(f'{self.path} is not a packed dataset: {err}') from err
        self.lq_group, self.gt_group = GROUPS[version]
        self.encoded = self.attrs.get('storage', 'raw') == 'encoded'
        self.shards = json.loads(self.attrs['shards']) if 'shards' in self.attrs else []

    @property
    def file(self) -> h5py.File:
        if self._handle is None or self._pid != os.getpid():
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
        """The rainy image: a lazy array for raw storage (slicing reads only the chunks it
        touches), the decoded uint8 array for encoded storage."""
        return self._image(self.lq_group, index)

    def _image(self, group: str, index: int):
        key = f'{group}/{image_key(index)}'
        try:
            stored = self.file[key]
        except KeyError as err:  # a missing shard surfaces here
            raise OSError(f'{self.path}: cannot read {key}{self._shard_hint(index, group)}: '
                          f'{err}') from None
        if not self.encoded:
            return stored
        from danet.datasets.pack_worker import decode_png
        return decode_png(stored[()])

    def _shard_hint(self, index: int, group: str) -> str:
        count = 'num_clean' if group == self.gt_group else 'num_rainy'
        for shard in self.shards:
            if index < shard[count]:
                return f' (in shard {self.path.parent / shard["file"]})'
            index -= shard[count]
        return ''

    def clean(self, index: int) -> h5py.Dataset | None:
        """The clean image paired with rainy image ``index`` (lazy), or None if unpaired."""
        clean = self.manifest.clean_index[index]
        return None if clean < 0 else self.clean_image(int(clean))

    def clean_image(self, clean_index: int):
        """Clean image number ``clean_index`` of the manifest's ``clean`` list (as ``rainy``)."""
        return self._image(self.gt_group, clean_index)

    @property
    def card(self) -> dict | None:
        """The stored dataset card (None for files packed before cards existed)."""
        return json.loads(self.file[CARD][()]) if CARD in self.file else None

    def __len__(self) -> int:
        return self.manifest.num_rainy

    def close(self):
        if self._handle is not None and self._pid == os.getpid():
            self._handle.close()
        self._handle = None

    def __getstate__(self):
        return {**self.__dict__, '_handle': None, '_pid': None}


class _Unreadable(Exception):
    """A packed file of a format version this reader does not know."""


def _plain(value):
    """HDF5 attribute → plain Python (numpy scalars and bytes become int/str)."""
    if isinstance(value, bytes):
        return value.decode()
    return value.item() if isinstance(value, np.generic) else value
