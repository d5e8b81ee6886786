"""What each packing process does to one background: decode, hash, fingerprint, encode, measure.

Runs in the pool of ``danet.datasets.pack``; everything returned is plain data (arrays, bytes,
strings) so it crosses the process boundary cheaply. ``bounded_imap`` keeps at most ``window``
backgrounds in flight, so memory does not grow when decoding outpaces writing.
"""
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from danet.datasets import fingerprint as fpm
from danet.datasets.card import pair_metrics
from danet.datasets.image_files import Group, decode_png, decode_rgb
from danet.utils.hashing import pixel_hash

STORAGES = ('raw', 'encoded')
"""``raw``: uint8 pixels, chunked (crops read only their chunks); ``encoded``: PNG bytes."""
PNG_LEVEL = 1
"""zlib level of PNGs the packer encodes itself (sources that are not 8-bit RGB PNGs)."""


@dataclass(frozen=True)
class Job:
    """One background to pack: ``sampled[k]`` says whether rainy image k gets card metrics."""
    group: Group
    convert: bool
    storage: str
    sampled: tuple[bool, ...]


def encode_png(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode('.png', img[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL])
    if not ok:
        raise ValueError('PNG encoding failed')
    return buf.tobytes()


def _payload(path: Path, img: np.ndarray, converted, storage: str):
    """What is stored: the pixels, or PNG bytes that decode (``decode_png``) to exactly them.
    An 8-bit RGB PNG is kept as is when its bytes decode to the hashed pixels (checked, so no
    chunk the two decoders read differently can make raw and encoded storage differ)."""
    if storage == 'raw':
        return img
    if not converted and path.suffix.lower() == '.png':
        data = np.frombuffer(path.read_bytes(), np.uint8)
        if np.array_equal(decode_png(data), img):
            return data
    return np.frombuffer(encode_png(img), np.uint8)


def _decode(path: Path, convert: bool, storage: str) -> dict:
    try:
        img, note = decode_rgb(path, convert)
        data = _payload(path, img, note, storage)
    except Exception as err:  # any decoder failure is a bad file, reported by name
        return {'path': path, 'error': f'{type(err).__name__}: {err}'}
    return {'path': path, 'img': img, 'data': data, 'converted': note,
            'sha256': pixel_hash(img), 'fp': fpm.fingerprint(img)}


def process(job: Job) -> tuple[dict | None, list[tuple[str, dict]], list[tuple[str, str]]]:
    """Decode one background and its rainy images: ``(clean, [(name, rainy)], problems)``.
    Each item holds ``data`` (what is stored), ``sha256``, ``fp``, ``shape`` and, for sampled
    pairs, ``metrics`` (PSNR, SSIM); the decoded pixels are dropped before returning."""
    group = job.group
    clean = None if group.clean is None else _decode(group.clean, job.convert, job.storage)
    problems = [] if clean is None or 'error' not in clean else [(str(group.clean), clean['error'])]
    rainy = []
    for (name, path), sampled in zip(group.rainy, job.sampled, strict=True):
        item = _decode(path, job.convert, job.storage)
        if 'error' in item:
            problems.append((str(path), item['error']))
        elif clean is not None and 'error' in clean:
            problems.append((str(path), f'its clean image {group.clean} is bad'))
        elif clean is not None and item['img'].shape != clean['img'].shape:
            h, w = item['img'].shape[:2]
            ch, cw = clean['img'].shape[:2]
            problems.append((str(path), f'size {w}x{h} differs from clean {group.clean} '
                                        f'({cw}x{ch})'))
        else:
            if sampled and clean is not None:
                item['metrics'] = pair_metrics(item['img'], clean['img'])
            rainy.append((name, item))
    for item in ([clean] if clean is not None else []) + [r for _, r in rainy]:
        if 'img' in item:
            item['shape'] = list(item.pop('img').shape[:2])
    return (clean if rainy else None), rainy, problems


def bounded_imap(pool, func: Callable, items: Iterable, window: int) -> Iterator:
    """``pool.imap(func, items)`` in order, with at most ``window`` tasks submitted at once."""
    pending: deque = deque()
    for item in items:
        pending.append(pool.apply_async(func, (item,)))
        if len(pending) >= window:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()
