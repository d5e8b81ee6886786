"""Natural-scene statistics shared by NIQE and BRISQUE (their one public home).

``SHAPES``: the 0.001 grid over [0.2, 10] on which both releases pick a generalized Gaussian's
shape by moment matching; ``AGGD_RATIO``/``GGD_RATIO``: the moment ratios at each grid shape for
the asymmetric and the symmetric fit; ``imresize_half``: MATLAB's antialiased bicubic halving,
which both take for their second scale.
"""
import math

import numpy as np
import torch
from scipy.special import gamma

SHAPES = np.arange(0.2, 10.001, 0.001)
AGGD_RATIO = gamma(2 / SHAPES) ** 2 / (gamma(1 / SHAPES) * gamma(3 / SHAPES))
GGD_RATIO = gamma(1 / SHAPES) * gamma(3 / SHAPES) / gamma(2 / SHAPES) ** 2


def imresize_half(img: np.ndarray) -> np.ndarray:
    """MATLAB ``imresize(img, 0.5)`` (bicubic, antialiased, symmetric borders) of a float32 2-D
    array, rows then columns, each output a float32 dot product over its 8 taps (BasicSR's order of
    operations, so the scores agree to the last bit of the resized image)."""
    out = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))
    for dim in (0, 1):
        weights, first, pad = _resize_taps(out.shape[dim])
        n, k = out.shape[dim], weights.shape[1]
        pos = np.arange(-pad, n + pad)
        pos = np.where(pos < 0, -pos - 1, np.where(pos >= n, 2 * n - pos - 1, pos))
        padded = out.index_select(dim, torch.from_numpy(pos))
        taps = zip(first + pad, weights, strict=True)
        if dim == 0:
            out = torch.stack([padded[f:f + k].T.mv(w) for f, w in taps])
        else:
            out = torch.stack([padded[:, f:f + k].mv(w) for f, w in taps], dim=1)
    return out.numpy()


def _resize_taps(n: int, scale: float = 0.5):
    """Float32 weights (out × taps, contiguous), 0-based first input index of each output and the
    symmetric padding needed on either side."""
    out, width = math.ceil(n * scale), 4 / scale
    u = np.arange(1, out + 1, dtype=np.float32) / np.float32(scale) + np.float32(0.5 - 0.5 / scale)
    left = np.floor(u - np.float32(width / 2))                        # 1-based, always zero weight
    taps = left[:, None] + np.arange(1, math.ceil(width) + 1, dtype=np.float32)[None, :]
    weights = np.float32(scale) * _cubic((u[:, None] - taps) * np.float32(scale))
    weights = np.ascontiguousarray(weights / weights.sum(axis=1, keepdims=True))
    first = left.astype(int)                                           # 1-based left + 1, 0-based
    pad = int(max(0, -first.min(), first.max() + weights.shape[1] - n))
    return torch.from_numpy(weights), first, pad


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic kernel (a = -0.5), MATLAB's ``cubic``, in float32."""
    a, f = np.abs(x), np.float32
    near = f(1.5) * a ** 3 - f(2.5) * a ** 2 + f(1)
    far = f(-0.5) * a ** 3 + f(2.5) * a ** 2 - f(4) * a + f(2)
    return (near * (a <= 1) + far * ((a > 1) & (a <= 2))).astype(np.float32)
