"""MPRNet generator: size, outputs, size check, and the official golden outputs."""
import pytest
import torch

from danet.models.mprnet import MPRNet
from danet.registry import MODELS
from danet.utils.complexity import count_parameters


@pytest.fixture(scope='module')
def mprnet():
    return MODELS.build(dict(type='MPRNet')).eval()


def test_parameter_count_matches_release(mprnet):
    assert count_parameters(mprnet) == 3_637_249
    prelus = {id(m) for m in mprnet.modules() if isinstance(m, torch.nn.PReLU)}
    assert len(prelus) == 1
    assert not any(name.startswith('act') for name, _ in mprnet.named_parameters())


def test_outputs_are_three_full_size_images(mprnet):
    x = torch.rand(2, 3, 16, 24)
    with torch.no_grad():
        outputs = mprnet(x)
    assert isinstance(outputs, list) and len(outputs) == 3
    assert all(o.shape == x.shape for o in outputs)
    assert MPRNet.size_divisor == 8


@pytest.mark.parametrize('size', [(16, 20), (12, 16)])
def test_size_not_divisible_by_8_is_rejected(mprnet, size):
    with pytest.raises(ValueError, match=rf'{size[0]}x{size[1]}'):
        mprnet(torch.rand(1, 3, *size))


def test_official_golden_outputs(mprnet, shared_data):
    golden = torch.load(shared_data / 'reference_outputs' / 'mprnet_official_random.pth',
                        weights_only=True)
    mprnet.load_state_dict(golden['state_dict'], strict=True)
    with torch.no_grad():
        outputs = mprnet(golden['input'])
    for ours, theirs in zip(outputs, golden['outputs'], strict=True):
        assert torch.allclose(ours, theirs, atol=1e-4, rtol=0)
