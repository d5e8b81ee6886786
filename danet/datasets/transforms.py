"""Paired transforms on the dataset's dict: ``img`` (rainy) and optional ``gt`` (clean).

Each follows mmcv's ``BaseTransform`` contract (``transform(results) -> results``, dict in, dict
out) and lives in the ``danet`` ``TRANSFORMS`` registry, a child of the root that mmcv's own
transforms register in: a pipeline mixes both (``RandomApply``, ``RandomChoice``, ``KeyMapper``
wrap ours) and reads like any OpenMMLab config.

Values may be lazy arrays (``h5py.Dataset``) that read only what a slice touches, or numpy
H×W×3 uint8; every transform returns numpy. Randomness comes from numpy's global RNG, seeded
per epoch from the run's seed (``EpochSeedHook`` in the main process; each DataLoader worker from
``(seed, epoch, rank, worker_id)`` by ``danet.engine.seeding.WorkerSeeder``), so every epoch
draws afresh and runs repeat for a given seed.
"""
import numpy as np
from mmcv.transforms import BaseTransform

from danet.registry import TRANSFORMS

KEYS = ('img', 'gt')


def as_array(img) -> np.ndarray:
    """Read a lazy array fully (no-op for numpy)."""
    return img if isinstance(img, np.ndarray) else np.asarray(img[()])


def pair_size(results: dict) -> tuple[int, int]:
    """``(H, W)`` of ``img``; raises naming the sample if ``gt`` has another size."""
    h, w = results['img'].shape[:2]
    gt = results.get('gt')
    if gt is not None and tuple(gt.shape[:2]) != (h, w):
        raise ValueError(f'{results.get("name")}: img {h}x{w} and gt '
                         f'{gt.shape[0]}x{gt.shape[1]} differ in size')
    return h, w


class _PairedCrop(BaseTransform):
    """A square ``crop_size`` window taken from both images of a pair."""

    def __init__(self, crop_size: int):
        if crop_size < 1:
            raise ValueError(f'crop_size must be positive, got {crop_size}')
        self.crop_size = crop_size

    def __repr__(self):
        return f'{type(self).__name__}(crop_size={self.crop_size})'


@TRANSFORMS.register_module()
class PairedRandomCrop(_PairedCrop):
    """The same random ``crop_size`` window from ``img`` and ``gt``; images smaller than the crop
    are reflect-padded on the right/bottom first (as DANet's loader does). Records ``crop_box``
    as (top, left, height, width)."""

    def __init__(self, crop_size: int = 256):
        super().__init__(crop_size)

    def transform(self, results: dict) -> dict:
        size = self.crop_size
        h, w = pair_size(results)
        if h < size or w < size:
            pad = ((0, max(0, size - h)), (0, max(0, size - w)), (0, 0))
            for key in KEYS:
                if results.get(key) is not None:
                    results[key] = np.pad(as_array(results[key]), pad, mode='reflect')
            h, w = results['img'].shape[:2]
        top, left = np.random.randint(0, h - size + 1), np.random.randint(0, w - size + 1)
        for key in KEYS:
            if results.get(key) is not None:
                results[key] = np.asarray(results[key][top:top + size, left:left + size])
        results['crop_box'] = (int(top), int(left), size, size)
        return results


@TRANSFORMS.register_module()
class PairedFlipRot8(BaseTransform):
    """DANet's augmentation (DANET_SPEC §3): draw k uniformly in 0..8; 1 vertical flip,
    2 horizontal flip, 3–5 rot90 by 1–3 quarter turns, 6 rot90 of the vertical flip,
    7 rot90 of the horizontal flip; 0 and 8 leave the pair unchanged (identity p = 2/9).
    Records the drawn ``flip_rot_mode``."""

    _OPS = {
        1: np.flipud, 2: np.fliplr,
        3: lambda x: np.rot90(x, 1), 4: lambda x: np.rot90(x, 2), 5: lambda x: np.rot90(x, 3),
        6: lambda x: np.rot90(np.flipud(x)), 7: lambda x: np.rot90(np.fliplr(x)),
    }

    def transform(self, results: dict) -> dict:
        mode = int(np.random.randint(0, 9))
        op = self._OPS.get(mode)
        for key in KEYS:
            if results.get(key) is not None:
                img = as_array(results[key])
                results[key] = op(img) if op else img  # a view; packing makes it contiguous
        results['flip_rot_mode'] = mode
        return results

    def __repr__(self):
        return f'{type(self).__name__}()'


@TRANSFORMS.register_module()
class PairedCenterCrop(_PairedCrop):
    """The central ``crop_size`` window of ``img`` and ``gt`` (DANet validates on 96×96 centre
    crops, ``VAL_PS``); images smaller than the crop are reflect-padded on the right/bottom
    first, like ``PairedRandomCrop``. Reads only the window from lazy arrays. Records
    ``crop_box`` as (top, left, height, width)."""

    def __init__(self, crop_size: int = 96):
        super().__init__(crop_size)

    def transform(self, results: dict) -> dict:
        size = self.crop_size
        h, w = pair_size(results)
        top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
        results['crop_box'] = (top, left, size, size)
        for key in KEYS:
            if results.get(key) is not None:
                window = np.asarray(results[key][top:top + size, left:left + size])
                pad = ((0, size - window.shape[0]), (0, size - window.shape[1]), (0, 0))
                results[key] = np.pad(window, pad, mode='reflect') if any(pad[:2]) else window
        return results


@TRANSFORMS.register_module()
class PairedRainStrength(BaseTransform):
    """Rescale the rain of a pair: ``img = gt + s * (img - gt)`` with ``s ~ U(low, high)``,
    applied with probability ``prob`` (rounded back to uint8).

    A training-only augmentation that teaches a network trained on one rain density that lighter
    rain needs a lighter correction (it does not touch ``gt``; pairs without ``gt`` pass
    unchanged). Records the drawn ``rain_strength`` (1.0 when not applied).
    """

    def __init__(self, low: float = 0.2, high: float = 1.0, prob: float = 0.5):
        if not 0 <= low <= high or not 0 <= prob <= 1:
            raise ValueError(f'need 0 <= low <= high and 0 <= prob <= 1, got low={low}, '
                             f'high={high}, prob={prob}')
        self.low, self.high, self.prob = low, high, prob

    def transform(self, results: dict) -> dict:
        strength = 1.0
        if results.get('gt') is not None and np.random.rand() < self.prob:
            strength = float(np.random.uniform(self.low, self.high))
            rainy = as_array(results['img']).astype(np.float32)
            clean = as_array(results['gt']).astype(np.float32)
            mixed = clean + strength * (rainy - clean)
            results['img'] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
        results['rain_strength'] = strength
        return results

    def __repr__(self):
        return f'{type(self).__name__}(low={self.low}, high={self.high}, prob={self.prob})'
