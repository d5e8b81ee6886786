"""The authors' released DANet weights load strictly after ``from_official`` and reproduce them."""
import pytest
import torch
import torch.nn.functional as F

from danet.models.danet.official import from_official, shuffle_permutation
from danet.registry import MODELS


def authors_shuffle_up(x: torch.Tensor) -> torch.Tensor:
    """Reference for the release's transposed pixel shuffle: out[c,2h+i,2w+j] = in[4c+2j+i]."""
    b, c4, h, w = x.shape
    out = torch.empty(b, c4 // 4, 2 * h, 2 * w)
    for c in range(c4 // 4):
        for i in range(2):
            for j in range(2):
                out[:, c, i::2, j::2] = x[:, 4 * c + 2 * j + i]
    return out


def test_permutation_turns_torch_shuffle_into_the_authors():
    x = torch.randn(1, 8, 3, 5)
    torch.testing.assert_close(F.pixel_shuffle(x[:, shuffle_permutation(8)], 2),
                               authors_shuffle_up(x))


def test_unknown_key_is_named():
    with pytest.raises(KeyError, match='dsnet.bogus.weight'):
        from_official({'dsnet.bogus.weight': torch.zeros(1)})


def test_every_released_key_maps_with_its_shape(shared_data):
    listing = shared_data.parent / 'docs' / 'official_state_dict_keys.txt'
    if not listing.is_file():
        pytest.skip(f'{listing} not found')
    official = {}
    for line in listing.read_text().splitlines():
        parts = line.split(maxsplit=2)
        if len(parts) == 3 and parts[0] == 'DANet':
            official[parts[1]] = torch.zeros(eval(parts[2]) if ',' in parts[2] else ())
    ours = MODELS.build(dict(type='DANet')).state_dict()
    converted = from_official(official)
    assert set(converted) == set(ours)
    assert all(converted[k].shape == ours[k].shape for k in ours)


@pytest.mark.slow
def test_golden_outputs(shared_data):
    ref = torch.load(shared_data / 'reference_outputs' / 'danet_official_random.pth',
                     weights_only=True)
    model = MODELS.build(dict(type='DANet')).eval()
    model.load_state_dict(from_official(ref['state_dict']), strict=True)
    with torch.no_grad():
        plain = model(ref['input'])
    # the engine's rewritten model (oneDNN convolutions, channel attention as F.linear),
    # channels-last, inference mode: the same golden outputs
    from danet.engine.inference import InferenceEngine
    from danet.engine.rewrites import LinearCALayer, OneDNNConv2d
    rewritten = InferenceEngine(model)(ref['input'])
    kinds = {type(m) for m in model.modules()}
    assert {OneDNNConv2d, LinearCALayer} <= kinds and torch.nn.Conv2d not in kinds
    for outputs in (plain, rewritten):
        assert len(outputs) == len(ref['outputs']) == 2
        for ours, theirs in zip(outputs, ref['outputs'], strict=True):
            assert ours.shape == theirs.shape
            assert (ours - theirs).abs().max().item() <= 1e-4
