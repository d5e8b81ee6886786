"""BRISQUE (Mittal, Moorthy and Bovik, "No-reference image quality assessment in the spatial
domain", IEEE TIP 2012) as the LIVE release's ``brisquescore.m`` computes it; lower is better
(about 0–100).

The image is made grey as MATLAB's ``rgb2gray`` does for uint8 (rounded), and at full and half
scale (MATLAB bicubic ``imresize``, antialiased) gives 18 features: a generalized Gaussian fit of
the normalised luminance (shape, variance) and asymmetric fits of its four neighbour products
(``circshift`` by (0, 1), (1, 0), (1, 1), (−1, 1): shape, mean, left and right variance), shapes
taken on a 0.001 grid over [0.2, 10]. The 36 features are scaled to [−1, 1] by the training ranges
and scored by the release's RBF support-vector regressor (``brisque_model``, installed by
``make install``). A flat image (its normalised luminance never takes both signs) has undefined
features and is refused with ``UnscorableImage``.
"""
import warnings

import numpy as np
from scipy.ndimage import correlate
from scipy.special import gamma

from danet.evaluation.errors import UnscorableImage
from danet.evaluation.scene_statistics import AGGD_RATIO, GGD_RATIO, SHAPES, imresize_half

RGB2GRAY = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])   # MATLAB
_SHIFTS = ((0, 1), (1, 0), (1, 1), (-1, 1))
MIN_SIDE = 16


def _window() -> np.ndarray:
    """MATLAB ``fspecial('gaussian', 7, 7/6)``."""
    x = np.arange(-3, 4)
    g = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * (7 / 6) ** 2))
    return g / g.sum()


def brisque_score(img: np.ndarray, model: dict | None = None) -> float:
    """BRISQUE of a uint8 image (H×W×3 RGB or H×W grey) of at least 16×16 pixels; ``model`` is
    the trained regressor (default: the installed one)."""
    if model is None:
        from danet.evaluation.brisque_model import load_model
        model = load_model()
    if min(img.shape[:2]) < MIN_SIDE:
        raise UnscorableImage(f'BRISQUE needs at least {MIN_SIDE}×{MIN_SIDE} pixels, got '
                              f'{img.shape[1]}×{img.shape[0]}')
    grey = np.round(img.astype(np.float64) @ RGB2GRAY) if img.ndim == 3 else img.astype(float)
    with np.errstate(invalid='ignore', divide='ignore'), warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)      # empty means of a flat image
        features = brisque_features(grey)
    if np.isnan(features).any():
        raise UnscorableImage('BRISQUE is undefined: the image has no texture (flat; its '
                              'normalised luminance never takes both signs)')
    return svr_predict(features, model)


def brisque_features(grey: np.ndarray) -> np.ndarray:
    """The 36 features of a grey image in [0, 255] (float)."""
    feats, window = [], _window()
    for scale in (1, 2):
        mu = correlate(grey, window, mode='constant')                  # filter2(..., 'same')
        sigma = np.sqrt(np.abs(correlate(grey * grey, window, mode='constant') - mu * mu))
        mscn = (grey - mu) / (sigma + 1)
        feats += _ggd(mscn)
        for shift in _SHIFTS:
            feats += _aggd(mscn * np.roll(mscn, shift, axis=(0, 1)))
        if scale == 1:
            grey = imresize_half((grey / 255).astype(np.float32)).astype(np.float64) * 255
    return np.array(feats)


def _ggd(x: np.ndarray) -> list[float]:
    """Shape and variance of a zero-mean generalized Gaussian (moment matching)."""
    variance = np.mean(x * x)
    alpha = SHAPES[np.argmin(np.abs(variance / np.mean(np.abs(x)) ** 2 - GGD_RATIO))]
    return [alpha, variance]


def _aggd(x: np.ndarray) -> list[float]:
    """Shape, mean and left/right variances of an asymmetric generalized Gaussian."""
    left = np.sqrt(np.mean(x[x < 0] ** 2))
    right = np.sqrt(np.mean(x[x > 0] ** 2))
    g = left / right
    r = np.mean(np.abs(x)) ** 2 / np.mean(x * x)
    r_norm = r * (g ** 3 + 1) * (g + 1) / (g ** 2 + 1) ** 2
    alpha = SHAPES[np.argmin((AGGD_RATIO - r_norm) ** 2)]
    mean = (right - left) * gamma(2 / alpha) / gamma(1 / alpha) * np.sqrt(
        gamma(1 / alpha) / gamma(3 / alpha))
    return [alpha, mean, left ** 2, right ** 2]


def svr_predict(features: np.ndarray, model: dict) -> float:
    """The regressor on features scaled to [−1, 1] by the training ranges (svm-scale)."""
    low, high = model['feature_min'], model['feature_max']
    scaled = -1 + 2 * (features - low) / (high - low)
    distances = ((model['support_vectors'] - scaled) ** 2).sum(axis=1)
    return float(model['coef'] @ np.exp(-model['gamma'] * distances) - model['rho'])
