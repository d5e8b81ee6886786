"""Perceptual fingerprints of images: find the same background across copies of a dataset.

A fingerprint is the luminance of the image resized to WORK×WORK (aspect ignored), eroded with a
ERODE×ERODE minimum filter (thin bright rain streaks vanish, the background's layout stays),
averaged down to GRID×GRID, then made zero-mean and unit-norm. The cosine of two fingerprints is
therefore unchanged by brightness/contrast changes, barely moved by crops of a few pixels,
resizing and JPEG recompression, and a horizontal flip reverses the grid's columns exactly, so
flipped copies are matched by comparing against the column-reversed fingerprints too.

Matching is a blocked matrix product (numpy), never a Python loop over pairs. ``THRESHOLD`` is
calibrated in ``docs/datasets.md`` (``python -m data_tools calibrate-leaks``).
"""
from dataclasses import dataclass, field

import cv2
import numpy as np

VERSION = 1
WORK, ERODE, GRID = 128, 5, 16
THRESHOLD = 0.93
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def fingerprint(img: np.ndarray) -> np.ndarray:
    """The unit-norm float32 fingerprint (GRID*GRID values) of a uint8 H×W×3 (or H×W) image."""
    gray = img.astype(np.float32) @ _LUMA if img.ndim == 3 else img.astype(np.float32)
    work = cv2.resize(gray, (WORK, WORK), interpolation=cv2.INTER_AREA)
    work = cv2.erode(work, np.ones((ERODE, ERODE), np.uint8))
    grid = cv2.resize(work, (GRID, GRID), interpolation=cv2.INTER_AREA).ravel()
    grid -= grid.mean()
    norm = np.linalg.norm(grid)
    return grid / norm if norm > 1e-6 else grid  # a flat image matches nothing


def flipped(fps: np.ndarray) -> np.ndarray:
    """Fingerprints of the horizontally flipped images (columns of each grid reversed)."""
    return np.ascontiguousarray(fps.reshape(-1, GRID, GRID)[:, :, ::-1].reshape(len(fps), -1))


@dataclass
class FingerprintSet:
    """The fingerprints of one set's images: ``names[i]`` has ``shapes[i]`` (H, W) and ``fps[i]``.
    ``role`` says what was compared: ``gt`` (clean/target images) or ``lq`` (degraded only).
    ``fps`` is an array, or the HDF5 dataset of a packed file (read in blocks when matched)."""
    label: str
    role: str
    names: list[str]
    shapes: list[tuple[int, int]]
    fps: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, indices) -> 'FingerprintSet':
        """The images ``indices``, their fingerprints read into memory."""
        indices = list(indices)
        return FingerprintSet(self.label, self.role, [self.names[i] for i in indices],
                              [self.shapes[i] for i in indices],
                              np.asarray(self.fps[()])[indices])


def match(a, b=None, threshold: float = THRESHOLD, block: int = 1024,
          b_block: int = 2048) -> list[tuple[int, int, float, bool]]:
    """Pairs ``(i, j, similarity, flipped)`` with cosine ≥ ``threshold`` between fingerprints
    ``a[i]`` and ``b[j]`` (or ``b[j]`` flipped, whichever is higher), sorted. Without ``b``,
    pairs ``i < j`` within ``a``. ``a`` and ``b`` may be arrays or HDF5 datasets: both are read
    in blocks, so memory stays at ``block × 2·b_block`` similarities whatever their lengths."""
    same = b is None
    b = a if same else b
    if len(a) == 0 or len(b) == 0:
        return []
    found = []
    for b_start in range(0, len(b), b_block):
        b_part = np.asarray(b[b_start:b_start + b_block], np.float32)
        both = np.concatenate([b_part, flipped(b_part)]).T
        n = len(b_part)
        for start in range(0, len(a), block):
            if same and start >= b_start + n:
                break  # rows past this block of b only pair with later blocks
            sims = np.asarray(a[start:start + block], np.float32) @ both
            plain, flip = sims[:, :n], sims[:, n:]
            best = np.maximum(plain, flip)
            rows, cols = np.nonzero(best >= threshold)
            for r, c in zip(rows, cols, strict=True):
                i, j = int(r + start), int(c + b_start)
                if same and j <= i:
                    continue
                found.append((i, j, float(best[r, c]), bool(flip[r, c] > plain[r, c])))
    return sorted(found)
