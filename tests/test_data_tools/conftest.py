"""Fixtures for data_tools tests: Rain100L packed once per session, tiny image folders."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from danet.datasets.pack import pack


@pytest.fixture(scope='session')
def rain100l_h5(shared_data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('packed') / 'Rain100L.h5'
    pack(shared_data / 'Rain100L', out, workers=2)
    return out


@pytest.fixture
def write_pairs():
    """``write_pairs(root, names, size=(H, W))``: a ``pairs`` folder of random RGB images."""
    def write(root: Path, names, size=(24, 32), seed=0) -> Path:
        rng = np.random.default_rng(seed)
        for sub in ('rainy', 'clean'):
            (root / sub).mkdir(parents=True, exist_ok=True)
            for name in names:
                img = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
                Image.fromarray(img).save(root / sub / name)
        return root
    return write
