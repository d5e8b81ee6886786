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
    ``role`` says what was compared: ``gt`` (clean/target images) or ``lq`` (degraded only)."""
    label: str
    role: str
    names: list[str]
    shapes: list[tuple[int, int]]
    fps: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, indices) -> 'FingerprintSet':
        indices = list(indices)
        return FingerprintSet(self.label, self.role, [self.names[i] for i in indices],
                              [self.shapes[i] for i in indices], self.fps[indices])


def match(a: np.ndarray, b: np.ndarray | None = None, threshold: float = THRESHOLD,
          block: int = 1024) -> list[tuple[int, int, float, bool]]:
    """Pairs ``(i, j, similarity, flipped)`` with cosine ≥ ``threshold`` between fingerprints
    ``a[i]`` and ``b[j]`` (or ``b[j]`` flipped, whichever is higher). Without ``b``, pairs
    ``i < j`` within ``a``. Blocked matrix products keep memory at ``block × len(b)``."""
    same = b is None
    b = a if same else b
    if len(a) == 0 or len(b) == 0:
        return []
    b_both = np.concatenate([b, flipped(b)]).astype(np.float32).T
    found = []
    for start in range(0, len(a), block):
        sims = a[start:start + block].astype(np.float32) @ b_both
        plain, flip = sims[:, :len(b)], sims[:, len(b):]
        best = np.maximum(plain, flip)
        rows, cols = np.nonzero(best >= threshold)
        for i, j in zip(rows + start, cols, strict=True):
            if same and j <= i:
                continue
            r = i - start
            found.append((int(i), int(j), float(best[r, j]), bool(flip[r, j] > plain[r, j])))
    return found
