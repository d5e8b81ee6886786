"""Restormer: the release's parameter count, the authors' outputs (tests/data, made as
tests/test_models/zoo_golden.py says), the ablation components, any input size."""
import pytest
import torch
import torch.nn.functional as F

from danet.registry import MODELS
from tests.test_models.zoo_golden import (
    SMALL,
    assert_matches,
    converted_generator,
    count_on_meta,
    golden,
)


def test_parameter_count_equals_the_release():
    assert count_on_meta(dict(type='Restormer')) == 26_126_644


@pytest.mark.parametrize('case', ['default', 'biasfree_bias'])
def test_converted_release_file_gives_the_authors_outputs(case, tmp_path):
    data = golden('restormer')[case]
    assert_matches(converted_generator(tmp_path, 'Restormer', data), data)


def test_ablation_components_swap_by_config():
    plain = MODELS.build(dict(type='Restormer', **SMALL, num_refinement_blocks=0,
                              attention=dict(type='SpatialSelfAttention'),
                              ffn=dict(type='ConvFFN'))).eval()
    keys = plain.state_dict().keys()
    assert not any(k.startswith('refinement.') for k in keys)
    assert not any('dwconv' in k or 'temperature' in k for k in keys)
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert plain(x)[0].shape == x.shape
    no_dconv = MODELS.build(dict(type='Restormer', **SMALL, attention=dict(type='MDTA',
                                                                            dconv=False)))
    assert not any('qkv_dwconv' in k for k in no_dconv.state_dict())


def test_spatial_attention_is_softmax_attention_over_pixels():
    attn = MODELS.build(dict(type='SpatialSelfAttention', dim=4, num_heads=2)).eval()
    x = torch.rand(1, 4, 3, 5)
    q, k, v = attn.qkv(x).reshape(1, 3, 2, 2, 15).unbind(1)            # B×heads×c×HW
    weights = (q.transpose(-2, -1) @ k / 2 ** 0.5).softmax(-1)          # HW×HW per head
    expected = attn.project_out((v @ weights.transpose(-2, -1)).reshape(1, 4, 3, 5))
    with torch.no_grad():
        assert torch.allclose(attn(x), expected, atol=1e-6)


@pytest.mark.parametrize('size', [(13, 21), (17, 8)])
def test_any_size_is_padded_to_8_and_cropped_back(size):
    from danet.apis.inference import derain
    model = MODELS.build(dict(type='RestorationModel', generator=dict(type='Restormer', **SMALL),
                              losses=[dict(type='L1Loss')])).eval()
    x = torch.rand(1, 3, *size)
    padded = F.pad(x, (0, -size[1] % 8, 0, -size[0] % 8), mode='reflect')
    with torch.no_grad():
        expected = model.generator(padded)[0][..., :size[0], :size[1]]
        with pytest.raises(ValueError, match=f'{size[0]}x{size[1]}'):
            model.generator(x)
    restored = derain(model, x)
    assert restored.shape == x.shape
    assert torch.allclose(restored, expected.clamp(0, 1), atol=1e-5)
