"""PSNR, SSIM and the pixel arithmetic behind the evaluation protocols (``protocols.py``).

``calculate_psnr``/``calculate_ssim`` take uint8 images, H×W×3 RGB or H×W grayscale, and
reproduce ``evaluate_PSNR_SSIM.m`` of DANet/MPRNet (protocol ``mprnet_matlab``): Y of MATLAB
``rgb2ycbcr`` (rounded to uint8), peak 255, no border crop, PSNR on double values, and Zhou
Wang's SSIM (11×11 Gaussian σ 1.5, K = (0.01, 0.03), 'valid' filtering, mean of the map).
``color_space='rgb'`` averages SSIM over channels and takes PSNR from the MSE over all channels.
``psnr``/``ssim`` are the same formulas on float arrays, for the other protocols' Y channels.
"""
import math

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

COLOR_SPACES = ('y', 'rgb')
ROUNDINGS = ('round', 'truncate')
Y_WEIGHTS = (65.481, 128.553, 24.966)   # MATLAB rgb2ycbcr, Y row, for R, G, B in [0, 255]
PEAK = 255.0
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K = (0.01, 0.03)


def quantize(img: torch.Tensor, rounding: str = 'round') -> np.ndarray:
    """Float 3×H×W (or H×W) tensor in [0, 1] → uint8 H×W×3 (or H×W), as saved to PNG.

    Values are clamped to [0, 1] and scaled by 255 in the tensor's own float precision (float32
    for half). ``rounding='round'``: half to even, as skimage ``img_as_ubyte`` and BasicSR's
    ``tensor2img``; ``'truncate'``: toward zero, as PReNet's ``np.uint8(255 * out)``.
    """
    if rounding not in ROUNDINGS:
        raise ValueError(f'rounding must be one of {ROUNDINGS}, got {rounding!r}')
    if not isinstance(img, torch.Tensor) or not img.is_floating_point():
        raise TypeError(f'quantize expects a float tensor, got {type(img).__name__} '
                        f'{getattr(img, "dtype", "")}')
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[0] not in (1, 3)):
        raise ValueError(f'quantize expects a 3×H×W or H×W tensor, got shape {tuple(img.shape)}')
    img = img.detach().cpu()
    if img.dtype not in (torch.float32, torch.float64):
        img = img.float()
    out = img.clamp(0, 1).mul(255)
    out = (out.round() if rounding == 'round' else out.trunc()).to(torch.uint8)
    if out.ndim == 3:
        out = out[0] if out.shape[0] == 1 else out.permute(1, 2, 0)
    return out.contiguous().numpy()


def rgb2y(img: np.ndarray) -> np.ndarray:
    """Y of MATLAB ``rgb2ycbcr`` on uint8 RGB H×W×3, as uint8 in [16, 235].

    Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, rounded half away from zero like MATLAB's
    conversion to uint8 (all values are positive, so floor(Y + 0.5)).
    """
    _check_uint8(img, 'rgb2y input')
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'rgb2y expects H×W×3 RGB, got shape {img.shape}')
    rgb = img.astype(np.float64)
    y = 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0
    return np.floor(y + 0.5).astype(np.uint8)


def rgb2y_double(img: np.ndarray) -> np.ndarray:
    """Y·255 of MATLAB ``rgb2ycbcr(im2double(img))`` on uint8 RGB, float64, not rounded."""
    _check_rgb(img, 'rgb2y_double')
    rgb = img.astype(np.float64) / 255.0
    y = sum(w / 255.0 * rgb[..., c] for c, w in enumerate(Y_WEIGHTS)) + 16.0 / 255.0
    return y * 255.0


def rgb2y_basicsr(img: np.ndarray) -> np.ndarray:
    """BasicSR's ``to_y_channel`` on uint8 RGB: float32 [0, 1] in, Y stored as float32, ×255."""
    _check_rgb(img, 'rgb2y_basicsr')
    x = img.astype(np.float32) / np.float32(255.0)
    y = (x.astype(np.float64) @ np.array(Y_WEIGHTS) + 16.0) / 255.0
    return (y.astype(np.float32) * np.float32(255.0)).astype(np.float64)


def psnr(a: np.ndarray, b: np.ndarray, peak: float = PEAK) -> float:
    """PSNR in dB of two float arrays on the same scale; ``inf`` if they are equal."""
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return math.inf if mse == 0 else float(20.0 * math.log10(peak / math.sqrt(mse)))


def ssim(a: np.ndarray, b: np.ndarray, downsample: bool = False) -> float:
    """Wang's SSIM of two float arrays on the 0–255 scale (H×W, or H×W×C: mean over channels).

    ``downsample``: first average-filter and subsample by ``max(1, round(min(H, W) / 256))``, as
    Wang's ``ssim.m`` (the version PReNet ships) does; ``ssim_index`` (MPRNet) does not.
    """
    if a.shape != b.shape:
        raise ValueError(f'SSIM inputs differ in shape: {a.shape} vs {b.shape}')
    if a.ndim == 3:
        return float(np.mean([ssim(a[..., c], b[..., c], downsample) for c in range(a.shape[2])]))
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if downsample:
        a, b = wang_downsample(a), wang_downsample(b)
    if min(a.shape) < SSIM_WINDOW:
        raise ValueError(f'SSIM needs images of at least {SSIM_WINDOW}×{SSIM_WINDOW} after '
                         f'cropping, got {a.shape[0]}×{a.shape[1]}')
    return _ssim_channel(a, b)


def wang_downsample(x: np.ndarray) -> np.ndarray:
    """``ssim.m``'s pre-step: f×f mean filter (``imfilter`` 'symmetric' 'same'), keep every f-th.

    f = max(1, round(min(H, W) / 256)) with MATLAB's round (half away from zero); for an even f
    the filter's centre is MATLAB's ``floor((f + 1) / 2)``, so it reaches further right/down.
    """
    f = max(1, math.floor(min(x.shape) / 256 + 0.5))
    if f == 1:
        return x
    before = (f + 1) // 2 - 1
    padded = np.pad(x, ((before, f - 1 - before),) * 2, mode='symmetric')
    box = sliding_window_view(padded, (f, f)).mean(axis=(2, 3))
    return box[::f, ::f]


def calculate_psnr(img: np.ndarray, ref: np.ndarray, color_space: str = 'y',
                   crop_border: int = 0) -> float:
    """PSNR in dB = 20·log10(255 / RMSE) on double values; ``inf`` for identical images."""
    return psnr(*_prepare(img, ref, color_space, crop_border))


def calculate_ssim(img: np.ndarray, ref: np.ndarray, color_space: str = 'y',
                   crop_border: int = 0) -> float:
    """Zhou Wang's SSIM: mean of the 'valid' SSIM map; over RGB, the mean of the channel SSIMs."""
    return ssim(*_prepare(img, ref, color_space, crop_border))


def gaussian_window_1d(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> np.ndarray:
    """Normalised 1-D Gaussian; its outer product is ``fspecial('gaussian', size, sigma)``."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    w = np.exp(-(x ** 2) / (2.0 * sigma ** 2))
    return w / w.sum()


def _ssim_channel(a: np.ndarray, b: np.ndarray) -> float:
    c1, c2 = (SSIM_K[0] * PEAK) ** 2, (SSIM_K[1] * PEAK) ** 2
    w = gaussian_window_1d()
    mu_a, mu_b = _filter_valid(a, w), _filter_valid(b, w)
    var_a = _filter_valid(a * a, w) - mu_a ** 2
    var_b = _filter_valid(b * b, w) - mu_b ** 2
    cov = _filter_valid(a * b, w) - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(ssim_map.mean())


def _filter_valid(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Separable correlation with ``outer(w, w)`` keeping only 'valid' positions (``filter2``)."""
    rows = sliding_window_view(x, w.size, axis=1) @ w
    return sliding_window_view(rows, w.size, axis=0) @ w


def _prepare(img, ref, color_space, crop_border):
    if color_space not in COLOR_SPACES:
        raise ValueError(f'color_space must be one of {COLOR_SPACES}, got {color_space!r}')
    if not isinstance(crop_border, int) or crop_border < 0:
        raise ValueError(f'crop_border must be a non-negative int, got {crop_border!r}')
    _check_uint8(img, 'image')
    _check_uint8(ref, 'reference')
    if img.shape != ref.shape:
        raise ValueError(f'image and reference shapes differ: {img.shape} vs {ref.shape}')
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)):
        raise ValueError(f'expected H×W×3 RGB or H×W grayscale, got shape {img.shape}')
    if color_space == 'y' and img.ndim == 3:
        img, ref = rgb2y(img), rgb2y(ref)
    if crop_border:
        img = img[crop_border:-crop_border, crop_border:-crop_border]
        ref = ref[crop_border:-crop_border, crop_border:-crop_border]
    return img.astype(np.float64), ref.astype(np.float64)


def _check_rgb(img, what):
    _check_uint8(img, f'{what} input')
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'{what} expects H×W×3 RGB, got shape {img.shape}')


def _check_uint8(img, what):
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8:
        raise TypeError(f'{what} must be a uint8 numpy array, got {type(img).__name__} '
                        f'{getattr(img, "dtype", "")}')
