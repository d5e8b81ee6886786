"""``tools/test.py`` (the test loop) and ``tools/derain.py`` run every image through the
``InferenceEngine``, and an autocast opened around the engine (``test_cfg.fp16``) stays in force."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from danet.engine.inference import InferenceEngine
from danet.registry import MODELS
from tools import derain as derain_tool
from tools import test as test_tool


@pytest.fixture
def engine_calls(monkeypatch):
    """Shapes of the images each ``InferenceEngine`` call received, in order."""
    calls, original = [], InferenceEngine.__call__

    def counted(self, x):
        calls.append(tuple(x.shape))
        return original(self, x)
    monkeypatch.setattr(InferenceEngine, '__call__', counted)
    return calls


@pytest.fixture
def random_checkpoint(tiny_config_file, tmp_path):
    init_default_scope('danet')
    model = MODELS.build(Config.fromfile(str(tiny_config_file)).model)
    torch.save({'state_dict': model.state_dict()}, tmp_path / 'random.pth')
    return str(tmp_path / 'random.pth')


def test_test_tool_and_derain_tool_run_every_image_through_the_engine(
        tiny_config_file, random_checkpoint, repo_root, monkeypatch, tmp_path, engine_calls):
    monkeypatch.chdir(repo_root)
    test_tool.main([str(tiny_config_file), random_checkpoint, '--work-dir',
                    str(tmp_path / 'test'), '--testsets', 'Rain100L'])
    assert (tmp_path / 'test' / 'results' / 'Rain100L.json').is_file()
    assert engine_calls == [(1, 3, 48, 48)] * 6  # the six test pairs, one engine call each
    engine_calls.clear()
    src = tmp_path / 'in'
    src.mkdir()
    for name, size in (('a', (20, 28)), ('b', (9, 13))):
        pixels = np.random.default_rng(0).integers(0, 256, (*size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(src / f'{name}.png')
    assert derain_tool.main([str(tiny_config_file), random_checkpoint, str(src),
                             str(tmp_path / 'out')]) == 0
    assert engine_calls == [(1, 3, 32, 32), (1, 3, 16, 16)]  # padded to DANet's divisor, 16


def test_an_autocast_around_the_engine_stays_in_force(random_checkpoint, tiny_config_file):
    init_default_scope('danet')
    model = MODELS.build(Config.fromfile(str(tiny_config_file)).model)
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    fp32 = InferenceEngine(model)(x)[0]
    with torch.autocast('cpu', torch.bfloat16):  # what MultiTestLoop(fp16=True) opens on CPU
        outer = InferenceEngine.of(model)(x)[0]
    inner = InferenceEngine(model, bf16=True)(x)[0]
    assert outer.dtype == torch.float32 and torch.equal(outer, inner)
    assert (outer - fp32).abs().max() > 1e-4  # bf16 really ran
