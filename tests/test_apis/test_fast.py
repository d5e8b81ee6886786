"""The fast inference path gives the plain forward's outputs."""
import pytest
import torch

from danet.apis.fast import prepare_for_inference
from danet.apis.tiling import tiled_forward
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
    fast = prepare_for_inference(net, channels_last=channels_last)
    outputs = fast(x)
    assert len(outputs) == len(expected)
    for ours, plain in zip(outputs, expected, strict=True):
        assert ours.is_contiguous() and not ours.requires_grad
        assert torch.allclose(ours, plain, atol=1e-4, rtol=0)
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert fast.size_divisor == MPRNet.size_divisor
    assert torch.allclose(fast.final(x), expected[0], atol=1e-4, rtol=0)


def test_fast_forward_feeds_tiled_forward():
    fast = prepare_for_inference(_tiny_mprnet())
    x = torch.rand(1, 3, 40, 40)
    out = tiled_forward(fast.final, x, tile=32, overlap=16, size_divisor=fast.size_divisor)
    assert out.shape == x.shape and torch.isfinite(out).all()
