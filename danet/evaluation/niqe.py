"""NIQE (Mittal et al., "Making a 'completely blind' image quality analyzer", IEEE SPL 2013) as
MATLAB's ``niqe`` and BasicSR's ``calculate_niqe`` compute it; lower is better.

The image's Y channel (MATLAB ``rgb2ycbcr``, rounded) is cut to whole 96×96 blocks; each block
gives 18 natural-scene-statistics features (a generalized Gaussian fit of the normalised
luminance and asymmetric fits of its four neighbour products) at full and half scale (MATLAB
bicubic ``imresize`` with antialiasing). NIQE is the distance between the multivariate Gaussian
of those features and the pristine model of the official release, whose parameters
``niqe_params.load_pristine_model`` reads (installed by ``make install``).

As the release's ``computequality.m`` (``nanmean``, ``nancov``), a block whose features are
undefined (a one-signed normalised luminance) is left out of the covariance. The covariance needs
two blocks: an image of one block (both sides 96–191 px; BasicSR's ``np.cov`` gives NaN and its
SVD fails) or with fewer than two textured blocks (flat) is refused with ``UnscorableImage``.
"""
import math

import numpy as np
from scipy.ndimage import convolve
from scipy.special import gamma

from danet.evaluation.errors import UnscorableImage
from danet.evaluation.functional import rgb2y_basicsr
from danet.evaluation.scene_statistics import AGGD_RATIO, SHAPES, imresize_half

__all__ = ['BLOCK', 'imresize_half', 'niqe_of_luma', 'niqe_score']

BLOCK = 96
_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))


def niqe_score(img: np.ndarray, model: dict | None = None) -> float:
    """NIQE of a uint8 image (H×W×3 RGB, or H×W grayscale read as three equal channels) of at
    least 96×96 pixels; ``model`` is the pristine model (default: the installed one)."""
    if model is None:
        from danet.evaluation.niqe_params import load_pristine_model
        model = load_pristine_model()
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    h, w = img.shape[:2]
    if h < BLOCK or w < BLOCK:
        raise UnscorableImage(f'NIQE needs at least {BLOCK}×{BLOCK} pixels, got {w}×{h}')
    if (h // BLOCK) * (w // BLOCK) < 2:
        raise UnscorableImage(f'NIQE needs at least two {BLOCK}×{BLOCK} blocks (one side '
                              f'{2 * BLOCK} px or more), got {w}×{h}: one block has no feature '
                              'covariance')
    y = np.round(rgb2y_basicsr(img))
    return niqe_of_luma(y, model)


def niqe_of_luma(y: np.ndarray, model: dict) -> float:
    """NIQE of a luminance image in [0, 255] (no colour conversion, no rounding)."""
    rows, cols = y.shape[0] // BLOCK, y.shape[1] // BLOCK
    # float32 throughout, as BasicSR computes it: the AGGD shape is the argmin over a 0.001 grid,
    # so float64 arithmetic moves some images' scores by up to 0.03.
    y = y[:rows * BLOCK, :cols * BLOCK].astype(np.float32)
    window = model['gaussian_window']
    feats = []
    for scale in (1, 2):
        mu = convolve(y, window, mode='nearest')
        var = convolve(y * y, window, mode='nearest') - mu * mu
        mscn = (y - mu) / (np.sqrt(np.abs(var)) + 1)
        size = BLOCK // scale
        feats.append(np.array([_block_features(mscn[r * size:(r + 1) * size,
                                                    c * size:(c + 1) * size])
                               for c in range(cols) for r in range(rows)]))
        if scale == 1:
            y = imresize_half(y / np.float32(255)) * np.float32(255)
    feats = np.concatenate(feats, axis=1)
    complete = feats[~np.isnan(feats).any(axis=1)]
    if len(complete) < 2:
        raise UnscorableImage(f'NIQE is undefined: {len(complete) or "no"} 96×96 block(s) with '
                              'texture, two are needed (a flat or one-signed image)')
    mu_d = np.nanmean(feats, axis=0)
    cov_d = np.cov(complete, rowvar=False)
    diff = model['mu_pris_param'].ravel() - mu_d
    inv = np.linalg.pinv((model['cov_pris_param'] + cov_d) / 2)
    return float(np.sqrt(diff @ inv @ diff))


def _aggd(x: np.ndarray) -> tuple[float, float, float]:
    """Shape α and left/right scales of an asymmetric generalized Gaussian (moment matching)."""
    x = x.ravel()
    with np.errstate(invalid='ignore', divide='ignore'):   # a one-signed block gives NaN features
        return _aggd_fit(x)


def _aggd_fit(x: np.ndarray) -> tuple[float, float, float]:
    left = np.sqrt(np.mean(x[x < 0] ** 2)) if np.any(x < 0) else np.float32(np.nan)
    right = np.sqrt(np.mean(x[x > 0] ** 2)) if np.any(x > 0) else np.float32(np.nan)
    g = left / right
    r = np.mean(np.abs(x)) ** 2 / np.mean(x * x)
    r_norm = r * (g ** 3 + 1) * (g + 1) / (g ** 2 + 1) ** 2
    alpha = SHAPES[np.argmin((AGGD_RATIO - r_norm) ** 2)]
    k = math.sqrt(gamma(1 / alpha) / gamma(3 / alpha))
    return alpha, left * k, right * k


def _block_features(block: np.ndarray) -> list[float]:
    alpha, bl, br = _aggd(block)
    feats = [alpha, (bl + br) / 2]
    for shift in _SHIFTS:
        alpha, bl, br = _aggd(block * np.roll(block, shift, axis=(0, 1)))
        feats += [alpha, (br - bl) * gamma(2 / alpha) / gamma(1 / alpha), bl, br]
    return feats
