"""Fixtures for dataset tests: a tiny packed folder and Rain100L packed once."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from danet.datasets.pack import pack


@pytest.fixture(scope='module')
def tiny_pairs(tmp_path_factory) -> tuple[Path, Path]:
    """``(folder, packed .h5)``: 6 random pairs of mixed sizes with a val split."""
    root = tmp_path_factory.mktemp('tiny')
    rng = np.random.default_rng(0)
    for k, size in enumerate([(40, 56)] * 3 + [(56, 40), (20, 24), (64, 64)]):
        for sub in ('rainy', 'clean'):
            (root / 'src' / sub).mkdir(parents=True, exist_ok=True)
            img = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            Image.fromarray(img).save(root / 'src' / sub / f'{k:02d}.png')
    out = root / 'tiny.h5'
    pack(root / 'src', out, val_fraction=0.34, workers=1)
    return root / 'src', out
