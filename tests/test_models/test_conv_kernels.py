"""Which convolution kernels a forward takes, counted with torch.profiler.

PyTorch sends small convolutions of one image (every 1×1 on one thread) to its generic
``_slow_conv2d``; channels-last DANet, once the engine rewrites its kernels
(``danet.engine.rewrites.rewrite_kernels``: ``OneDNNConv2d``), runs all its convolutions on
oneDNN."""
import collections

import pytest
import torch
from torch.profiler import profile

from danet.engine.rewrites import OneDNNConv2d, rewrite_kernels
from danet.models.common import CALayer
from danet.models.danet.danet_net import DANet

SLOW = 'aten::_slow_conv2d_forward'
ONEDNN = 'aten::mkldnn_convolution'


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _kernels(net, x) -> collections.Counter:
    with torch.no_grad(), profile() as prof:
        net(x)
    return collections.Counter(e.name for e in prof.events() if e.name in (SLOW, ONEDNN))


def test_channels_last_danet_never_takes_the_slow_kernel(one_thread):
    torch.manual_seed(0)
    net = DANet().eval()
    x = torch.rand(1, 3, 64, 64)
    plain = _kernels(net, x)
    with torch.no_grad():
        expected = net(x)
    assert plain[SLOW] > 90  # PyTorch's own choice: the 1×1 convolutions and the small 3×3 ones
    rewrite_kernels(net).to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
    fast = _kernels(net, x)
    attention = sum(isinstance(m, CALayer) for m in net.modules())  # two 1×1s each: now F.linear
    assert fast[SLOW] == 0 and fast[ONEDNN] == plain[SLOW] + plain[ONEDNN] - 2 * attention
    with torch.no_grad():
        for ours, theirs in zip(net(x), expected, strict=True):
            assert (ours - theirs).abs().max() <= 1e-4


def test_onednn_conv_matches_conv2d_with_gradients():
    torch.manual_seed(0)
    conv = OneDNNConv2d(6, 4, 3, stride=2, padding=1, bias=True)
    x = torch.rand(2, 6, 9, 11, requires_grad=True)
    expected = conv(x)
    (expected ** 2).sum().backward()
    grads = x.grad.clone(), conv.weight.grad.clone()
    x.grad, conv.weight.grad = None, None
    x_cl = x.detach().contiguous(memory_format=torch.channels_last).requires_grad_()
    out = conv(x_cl)
    (out ** 2).sum().backward()
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(x_cl.grad, grads[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(conv.weight.grad, grads[1], atol=1e-4, rtol=0)
