"""The inference engine gives the plain forward's and the plain test step's outputs."""
import pytest
import torch

from danet.engine.inference import InferenceEngine
from danet.engine.tiling import tiled_forward
from danet.models.derain_model import DerainModel
from danet.models.mprnet import MPRNet


def _tiny_mprnet():
    torch.manual_seed(0)
    return MPRNet(n_feat=8, scale_unetfeats=4, scale_orsnetfeats=4, num_cab=1)


@pytest.mark.parametrize('channels_last', [True, False])
def test_fast_forward_matches_plain_forward(channels_last):
    net = _tiny_mprnet().eval()
    x = torch.rand(2, 3, 32, 48)
    with torch.no_grad():
        expected = net(x)
    fast = InferenceEngine(net, channels_last=channels_last)
    outputs = fast(x)
    assert len(outputs) == len(expected)
    for ours, plain in zip(outputs, expected, strict=True):
        assert ours.is_contiguous() and not ours.requires_grad
        assert torch.allclose(ours, plain, atol=1e-4, rtol=0)
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert fast.size_divisor == MPRNet.size_divisor
    assert torch.allclose(fast.final(x), expected[0], atol=1e-4, rtol=0)


def test_fast_forward_feeds_tiled_forward():
    fast = InferenceEngine(_tiny_mprnet())
    x = torch.rand(1, 3, 40, 40)
    out = tiled_forward(fast.final, x, tile=32, overlap=16, size_divisor=fast.size_divisor)
    assert out.shape == x.shape and torch.isfinite(out).all()


def test_engine_predict_matches_the_plain_test_step_and_is_prepared_once():
    model = DerainModel(_tiny_mprnet()).eval()
    images = [torch.randint(0, 256, (3, 21, 30), dtype=torch.uint8),
              torch.randint(0, 256, (1, 17, 16), dtype=torch.uint8)]  # padded; grayscale
    with torch.no_grad():
        plain = model.test_step(dict(inputs=images))
    engine = InferenceEngine.of(model)
    assert InferenceEngine.of(model) is engine and InferenceEngine.of(engine) is engine
    assert all(p.is_contiguous(memory_format=torch.channels_last)
               for p in model.generator.parameters() if p.ndim == 4)
    fast = engine.predict(dict(inputs=images))
    for ours, theirs in zip(fast, plain, strict=True):
        assert ours.pred_img.shape == theirs.pred_img.shape == (3, *theirs.img_shape)
        assert (ours.pred_img - theirs.pred_img).abs().max() <= 1e-4
