"""PSNR and SSIM with the conventions of the deraining literature (``evaluate_PSNR_SSIM.m``).

Inputs are uint8 images, H×W×3 RGB or H×W grayscale. Defaults reproduce the MATLAB script that
DANet and MPRNet report with: Y of MATLAB ``rgb2ycbcr`` (rounded to uint8), peak 255, no border
crop, PSNR on double values, and Zhou Wang's SSIM (11×11 Gaussian σ 1.5, K = (0.01, 0.03),
'valid' filtering, mean of the map). ``color_space='rgb'`` averages SSIM over channels and takes
PSNR from the MSE over all channels.
"""
import math

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

COLOR_SPACES = ('y', 'rgb')
PEAK = 255.0
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K = (0.01, 0.03)


def conventions(crop_border: int = 0) -> dict:
    """The conventions behind every value here, as stored in a results file."""
    return {
        'y_channel': 'matlab_rgb2ycbcr',
        'quantize': 'uint8',
        'crop_border': int(crop_border),
        'peak': int(PEAK),
        'ssim': f'gaussian{SSIM_WINDOW}_sigma{SSIM_SIGMA}_valid',
    }


def quantize(img: torch.Tensor) -> np.ndarray:
    """Float 3×H×W (or H×W) tensor in [0, 1] → uint8 H×W×3 (or H×W), as ``img_as_ubyte`` + PNG.

    Values are clamped to [0, 1], scaled by 255 and rounded half to even in the tensor's own
    float precision (float32 for half), which is what skimage does before the image is saved.
    """
    if not isinstance(img, torch.Tensor) or not img.is_floating_point():
        raise TypeError(f'quantize expects a float tensor, got {type(img).__name__} '
                        f'{getattr(img, "dtype", "")}')
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[0] not in (1, 3)):
        raise ValueError(f'quantize expects a 3×H×W or H×W tensor, got shape {tuple(img.shape)}')
    img = img.detach().cpu()
    if img.dtype not in (torch.float32, torch.float64):
        img = img.float()
    out = img.clamp(0, 1).mul(255).round().to(torch.uint8)
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


def calculate_psnr(img: np.ndarray, ref: np.ndarray, color_space: str = 'y',
                   crop_border: int = 0) -> float:
    """PSNR in dB = 20·log10(255 / RMSE) on double values; ``inf`` for identical images."""
    a, b = _prepare(img, ref, color_space, crop_border)
    mse = np.mean((a - b) ** 2)
    return math.inf if mse == 0 else float(20.0 * math.log10(PEAK / math.sqrt(mse)))


def calculate_ssim(img: np.ndarray, ref: np.ndarray, color_space: str = 'y',
                   crop_border: int = 0) -> float:
    """Zhou Wang's SSIM: mean of the 'valid' SSIM map; over RGB, the mean of the channel SSIMs."""
    a, b = _prepare(img, ref, color_space, crop_border)
    if min(a.shape[:2]) < SSIM_WINDOW:
        raise ValueError(f'SSIM needs images of at least {SSIM_WINDOW}×{SSIM_WINDOW} after '
                         f'cropping, got {a.shape[0]}×{a.shape[1]}')
    if a.ndim == 2:
        return _ssim_channel(a, b)
    return float(np.mean([_ssim_channel(a[..., c], b[..., c]) for c in range(a.shape[2])]))


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


def _check_uint8(img, what):
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8:
        raise TypeError(f'{what} must be a uint8 numpy array, got {type(img).__name__} '
                        f'{getattr(img, "dtype", "")}')
