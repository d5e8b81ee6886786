"""init_model (config, checkpoint loading, mismatch errors) and derain (uint8, tensor, tiles)."""
import importlib.util

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from torch import nn

from danet.apis import derain, init_model
from danet.registry import MODELS


class EchoNet(nn.Module):
    """A learnable per-channel gain; needs sides divisible by 8."""

    size_divisor = 8

    def __init__(self, channels: int = 3):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(1, channels, 1, 1))

    def forward(self, x):
        assert x.shape[-1] % 8 == 0 and x.shape[-2] % 8 == 0, 'unpadded input'
        return [x * self.gain]


@pytest.fixture(autouse=True)
def echo_net():
    MODELS.register_module(name='EchoNetForTests', module=EchoNet, force=True)
    yield
    MODELS.module_dict.pop('EchoNetForTests')


def _config(**generator):
    return Config(dict(model=dict(type='DerainModel', generator=dict(type='EchoNetForTests',
                                                                     **generator))))


def _save(path, model, **extra):
    torch.save(dict(meta=dict(iter=1), state_dict=model.state_dict(), **extra), path)
    return path


def test_init_model_from_file_applies_cfg_options_and_returns_eval_mode(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text("model = dict(type='DerainModel', generator=dict(type='EchoNetForTests'))\n")
    model = init_model(path, cfg_options={'model.generator.channels': 1})
    assert not model.training and model.generator.gain.shape == (1, 1, 1, 1)


def test_checkpoint_weights_are_loaded(tmp_path):
    source = init_model(_config())
    source.generator.gain.data.fill_(0.5)
    model = init_model(_config(), _save(tmp_path / 'iter_1.pth', source))
    assert torch.equal(model.generator.gain, source.generator.gain)


def test_other_architecture_names_missing_and_mismatched_keys(tmp_path):
    other = init_model(_config(channels=1))
    with pytest.raises(ValueError, match=r'shape mismatch at generator.gain: '
                                         r'checkpoint \(1, 1, 1, 1\), model \(1, 3, 1, 1\)'):
        init_model(_config(), _save(tmp_path / 'a.pth', other))
    torch.save({'conv.weight': torch.zeros(1)}, tmp_path / 'official.pth')  # a generator's own
    with pytest.raises(ValueError, match='(?s)missing key: generator.gain.*'
                                         'unexpected key: generator.conv.weight'):
        init_model(_config(), tmp_path / 'official.pth')


def test_checkpoint_needing_more_than_weights_only_is_refused_even_in_a_run_directory(tmp_path):
    hub = MessageHub.get_instance('inference-test')
    hub.update_scalar('train/loss', 0.5)  # MMEngine's own format: pickles a HistoryBuffer
    path = _save(tmp_path / 'epoch_1.pth', init_model(_config()), message_hub=hub.state_dict())
    (tmp_path / 'last_checkpoint').write_text(str(path))
    (tmp_path / 'env.json').write_text('{}')
    with pytest.raises(ValueError, match='refused to unpickle, it needs .*HistoryBuffer'):
        init_model(_config(), path)


def test_derain_uint8_any_size_and_grayscale():
    model = init_model(_config())
    rgb = np.random.default_rng(0).integers(0, 256, (21, 13, 3), dtype=np.uint8)
    out = derain(model, rgb)
    assert out.dtype == np.uint8 and np.array_equal(out, rgb)  # identity net, exact round trip
    model.generator.gain.data.fill_(0.5)
    gray = derain(model, rgb[..., 0])
    assert gray.shape == (21, 13, 3)
    expected = np.round(rgb[..., 0].astype(np.float64) / 2).astype(np.uint8)
    assert np.abs(gray[..., 1].astype(int) - expected).max() <= 1


def test_derain_tensor_batch_keeps_shape_and_clamps():
    model = init_model(_config())
    model.generator.gain.data.fill_(2.0)
    batch = torch.rand(2, 3, 10, 17)
    out = derain(model, batch)
    assert out.shape == batch.shape and out.max() <= 1
    torch.testing.assert_close(out, (batch * 2).clamp(0, 1))


def test_derain_rejects_wrong_inputs():
    model = init_model(_config())
    with pytest.raises(ValueError, match='float32'):
        derain(model, np.zeros((8, 8, 3), dtype=np.float32))
    with pytest.raises(TypeError, match='B×3×H×W'):
        derain(model, torch.zeros(3, 8, 8))


@pytest.mark.skipif(importlib.util.find_spec('danet.engine.tiling') is None,
                    reason='danet/engine/tiling.py (tiled_forward) not written yet')
def test_derain_with_tiles_matches_whole_image_for_a_local_net():
    model = init_model(_config())
    model.generator.gain.data.fill_(0.8)
    image = np.random.default_rng(1).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    assert np.abs(derain(model, image, tile=32, overlap=8).astype(int)
                  - derain(model, image).astype(int)).max() <= 1


def test_released_danet_config_builds_and_derains(repo_root):
    if 'DANet' not in MODELS.all_names():
        pytest.skip('DANet is not registered yet (danet/models/danet/)')
    model = init_model(repo_root / 'configs' / '_base_' / 'models' / 'danet.py',
                       cfg_options={'model.generator.n_feat': 8, 'model.generator.num_cab': 1})
    assert model.data_preprocessor.size_divisor == 16
    assert derain(model, np.zeros((20, 30, 3), dtype=np.uint8)).shape == (20, 30, 3)
