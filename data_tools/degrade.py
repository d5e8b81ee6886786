"""Haze and low-light degradation models for ``data_tools synth --task dehaze|lowlight``.

Each ``add_*`` takes a uint8 H×W×3 clean image and a seeded generator and returns the degraded
uint8 image with the parameters it drew (recorded per image in ``synthesis.json``).

**Haze** — the atmospheric scattering model (Koschmieder; McCartney 1976, as used by He et al.
2009 and the RESIDE benchmark, Li et al. 2019): ``I = J·t + A·(1 − t)``, ``t = exp(−β·d)``, on
sRGB values in [0, 1] as RESIDE applies it. β ~ U(0.6, 1.8) and a grey airlight A ~ U(0.7, 1.0)
are RESIDE's ITS ranges. Depth proxy ``d``: no depth exists for arbitrary photos, so a flat ground
plane seen by a level camera is assumed (depth along a row below the horizon ∝ 1/(v − v_h), v the
row's height fraction from the top), horizon v_h ~ U(0.3, 0.5), near depth at the bottom row
d_near ~ U(0.1, 0.3), everything at or above the horizon at the far depth 1. Limits: objects
standing above the ground (people, buildings, the camera's own subject) get the depth of the
ground behind them, so near objects are hazed as if far; tilted cameras, indoor scenes and
close-ups break the assumption; depth does not vary along a row.

**Low light** — what a shorter exposure does to a camera (Foi et al., "Practical
Poissonian-Gaussian noise modeling and fitting for single-image raw-data", IEEE TIP 2008; the
same shot + read noise model as Brooks et al. 2019 "Unprocessing images" and Wei et al. 2020
"A physics-based noise formation model"): sRGB is linearised (IEC 61966-2-1), scaled by an
exposure gain g ~ U(0.05, 0.3) and bent by a gamma γ ~ U(1.0, 1.6) in linear space (darker tones
lose more, as in the low-light synthesis of Lv et al., MBLLEN 2018), then shot noise
``a·Poisson(x/a)`` with a ~ U(1e-3, 1e-2) and Gaussian read noise σ_r ~ U(1e-3, 6e-3) are
added, the result clipped, sRGB-encoded and quantised to 8 bits. Limits: noise is applied per
sRGB channel after demosaicing (no Bayer pattern, no colour correlation) and the camera's tone
curve is taken to be sRGB.
"""
import numpy as np

HAZE_RANGES = {'beta': (0.6, 1.8), 'airlight': (0.7, 1.0), 'horizon': (0.3, 0.5),
               'near_depth': (0.1, 0.3)}
LOWLIGHT_RANGES = {'gain': (0.05, 0.3), 'gamma': (1.0, 1.6), 'shot': (1e-3, 1e-2),
                   'read': (1e-3, 6e-3)}


def ground_plane_depth(height: int, width: int, horizon: float, near: float) -> np.ndarray:
    """Normalised depth in [near, 1]: 1 at and above the horizon row, ∝ 1/(v − horizon) below."""
    v = (np.arange(height) + 0.5) / height
    below = np.maximum(v - horizon, 1e-6)
    depth = np.clip(near * (1 - horizon) / below, near, 1.0)
    return np.repeat(depth[:, None], width, axis=1)


def add_haze(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Hazy version of ``img`` and the drawn ``beta``, ``airlight``, ``horizon``, ``near_depth``."""
    p = {k: float(rng.uniform(*r)) for k, r in HAZE_RANGES.items()}
    depth = ground_plane_depth(*img.shape[:2], p['horizon'], p['near_depth'])
    t = np.exp(-p['beta'] * depth)[..., None]
    hazy = img.astype(np.float64) / 255 * t + p['airlight'] * (1 - t)
    return _to_uint8(hazy), p


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def add_low_light(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Low-light version of ``img`` and the drawn ``gain``, ``gamma``, ``shot``, ``read``."""
    p = {k: float(rng.uniform(*r)) for k, r in LOWLIGHT_RANGES.items()}
    linear = (p['gain'] * srgb_to_linear(img.astype(np.float64) / 255)) ** p['gamma']
    noisy = p['shot'] * rng.poisson(linear / p['shot']) + rng.normal(0, p['read'], img.shape)
    return _to_uint8(linear_to_srgb(np.clip(noisy, 0, 1))), p


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.round(np.clip(x, 0, 1) * 255).astype(np.uint8)
