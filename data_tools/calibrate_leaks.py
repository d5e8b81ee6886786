"""Measure the leak detector's error rates (``python -m data_tools calibrate-leaks``).

True duplicates: every distinct clean image of the given paired folders against a copy changed
by each transformation below (drawn with the seed), and the folders' own rainy images against
their clean images (real rain). Distinct images: every pair of different clean images (with
flips, as ``match`` compares), and every rainy image against every other background. For each
threshold the false-negative rate of each case and the false-positive rate are reported.
"""
import io

import cv2
import numpy as np
from PIL import Image

from danet.datasets import fingerprint as fpm
from danet.datasets.image_files import decode_rgb, discover
from danet.utils.hashing import pixel_hash
from data_tools.synth import RainParams, add_rain

THRESHOLDS = (0.85, 0.9, 0.93, 0.95, 0.97)
HEAVY_RAIN = RainParams(density=0.08, intensity=1.0, haze=0.3)


def _crop(img, rng):
    top, left, bottom, right = rng.integers(1, 5, 4)
    return img[top:img.shape[0] - bottom, left:img.shape[1] - right]


def _resize(img, rng):
    s = rng.uniform(0.5, 1.5)
    size = (max(8, round(img.shape[1] * s)), max(8, round(img.shape[0] * s)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)


def _jpeg(img, rng):
    buffer = io.BytesIO()
    Image.fromarray(img).save(buffer, 'JPEG', quality=int(rng.integers(30, 91)))
    return np.asarray(Image.open(buffer).convert('RGB'))


def _tone(img, rng):
    gain, bias = rng.uniform(0.7, 1.3), rng.uniform(-30, 30)
    return np.clip(img.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)


def _flip(img, rng):
    return np.ascontiguousarray(img[:, ::-1])


def _rain(img, rng):
    return add_rain(img, RainParams(), rng)


def _heavy_rain(img, rng):
    return add_rain(img, HEAVY_RAIN, rng)


def _all(img, rng):
    for step in (_crop, _resize, _tone, _flip, _rain, _jpeg):
        img = step(img, rng)
    return img


TRANSFORMS = {'crop 1-4 px': _crop, 'resize 0.5-1.5x': _resize, 'JPEG q30-90': _jpeg,
              'brightness/contrast': _tone, 'horizontal flip': _flip, 'rain (synth default)': _rain,
              'heavy rain + haze': _heavy_rain, 'all of the above but heavy rain': _all}


def _load(folders, limit):
    """Distinct clean images (by pixel hash) and the (rainy, clean index) pairs of ``folders``."""
    clean, rainy, seen = [], [], {}
    for folder in folders:
        groups, _ = discover(folder, 'pairs')
        for group in groups:
            if group.clean is None:
                raise ValueError(f'{folder}: calibration needs paired folders (rainy/ + clean/)')
            img = decode_rgb(group.clean, convert=True)[0]
            key = pixel_hash(img)
            if key not in seen:
                if limit and len(clean) >= limit:
                    continue  # past the limit: neither the background nor its rainy images
                seen[key] = len(clean)
                clean.append(img)
            rainy += [(f'{folder.name} rainy', decode_rgb(p, convert=True)[0], seen[key])
                      for _, p in group.rainy]
    return clean, rainy


def _best(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise best cosine of ``a[i]`` with ``b[i]`` or its flip."""
    return np.maximum(np.sum(a * b, 1), np.sum(a * fpm.flipped(b), 1))


def calibrate(folders, seed: int = 0, limit: int | None = None) -> dict:
    """``cases`` (name -> similarities of true duplicates), ``negatives`` (similarities of
    distinct images), and the rates per threshold."""
    clean, rainy = _load(folders, limit)
    if len(clean) < 2:
        raise ValueError('calibration needs at least two distinct clean images')
    rng = np.random.default_rng(seed)
    base = np.stack([fpm.fingerprint(img) for img in clean])
    cases = {name: _best(base, np.stack([fpm.fingerprint(t(img, rng)) for img in clean]))
             for name, t in TRANSFORMS.items()}
    by_set: dict[str, list] = {}
    for label, img, index in rainy:
        by_set.setdefault(label, []).append((fpm.fingerprint(img), index))
    negatives = []
    both = np.concatenate([base, fpm.flipped(base)]).T
    sims = np.maximum(*np.split(base @ both, 2, axis=1))
    negatives.append(sims[np.triu_indices(len(base), 1)])
    for label, rows in by_set.items():
        fps, index = np.stack([r[0] for r in rows]), np.array([r[1] for r in rows])
        cases[f'{label} vs its clean (real rain)'] = _best(base[index], fps)
        other = np.maximum(*np.split(fps @ both, 2, axis=1))
        other[np.arange(len(index)), index] = -1
        negatives.append(other[other > -1])
    negatives = np.concatenate(negatives)
    rates = [{'threshold': t, 'false_positive': float(np.mean(negatives >= t)),
              'false_negative': {name: float(np.mean(s < t)) for name, s in cases.items()}}
             for t in sorted({*THRESHOLDS, fpm.THRESHOLD})]
    return {'images': len(clean), 'negative_pairs': int(negatives.size), 'seed': seed,
            'negative_max': float(negatives.max()),
            'case_min': {name: float(s.min()) for name, s in cases.items()}, 'rates': rates}


def format_calibration(result: dict) -> str:
    names = list(result['case_min'])
    lines = [f'{result["images"]} distinct clean images, {result["negative_pairs"]} distinct '
             f'pairs (highest similarity {result["negative_max"]:.3f}), seed {result["seed"]}',
             '| case | min similarity | ' + ' | '.join(f'FN @{r["threshold"]}'
                                                      for r in result['rates']) + ' |',
             '|---|---|' + '---|' * len(result['rates'])]
    for name in names:
        lines.append(f'| {name} | {result["case_min"][name]:.3f} | ' + ' | '.join(
            f'{r["false_negative"][name]:.1%}' for r in result['rates']) + ' |')
    lines.append('| distinct images (false positives) | | ' + ' | '.join(
        f'{r["false_positive"]:.2%}' for r in result['rates']) + ' |')
    return '\n'.join(lines)
