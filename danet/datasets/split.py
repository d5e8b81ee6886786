"""Train/val split by background: every rainy image of one clean image lands in the same half."""
import numpy as np


def split_by_background(background_keys: list[str], val_fraction: float,
                        seed: int) -> dict[str, list[int]]:
    """Indices of ``background_keys`` split so that no key appears in both halves.

    ``background_keys[i]`` identifies the background of rainy image ``i`` (the clean image's
    pixel hash, so byte-identical duplicates count as one background). About ``val_fraction``
    of the distinct backgrounds, drawn with ``seed``, go to ``val``.
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f'val_fraction must be in (0, 1), got {val_fraction}')
    distinct = sorted(set(background_keys))
    if len(distinct) < 2:
        raise ValueError(f'cannot split {len(distinct)} background(s) into train and val')
    n_val = min(max(1, round(len(distinct) * val_fraction)), len(distinct) - 1)
    order = np.random.default_rng(seed).permutation(len(distinct))
    val_keys = {distinct[i] for i in order[:n_val]}
    return {'train': [i for i, k in enumerate(background_keys) if k not in val_keys],
            'val': [i for i, k in enumerate(background_keys) if k in val_keys]}
