"""DRSformer: the release's parameter counts (with and without MEFC), the authors' outputs of
both variants (tests/data, made as tests/test_models/zoo_golden.py says), a file of the other
variant refused, the ablation components."""
import pytest
import torch

from danet.models.checkpoint import CheckpointMismatchError
from danet.models.converters import convert_checkpoint
from danet.registry import MODELS
from tests.test_models.zoo_golden import (
    SMALL,
    assert_matches,
    converted_generator,
    count_on_meta,
    golden,
    write_config,
)


@pytest.mark.parametrize('mefc, count', [(dict(type='MEFC'), 33_655_424),
                                         (dict(type='NoMEFC'), 32_610_304)])
def test_parameter_counts_equal_the_release(mefc, count):
    assert count_on_meta(dict(type='DRSformer', mefc=mefc)) == count


@pytest.mark.parametrize('case', ['mefc', 'no_mefc'])
def test_converted_release_file_gives_the_authors_outputs(case, tmp_path):
    data = golden('drsformer')[case]
    assert_matches(converted_generator(tmp_path, 'DRSformer', data), data)


@pytest.mark.parametrize('case, other, expected', [
    ('mefc', dict(type='NoMEFC'), 'unexpected key: encoder_level0.router_fc.0.weight'),
    ('no_mefc', dict(type='MEFC'), 'missing key: refinement.steps.3.fuse.0.weight')])
def test_a_file_of_the_other_variant_is_refused_naming_its_keys(case, other, expected, tmp_path):
    data = golden('drsformer')[case]
    config = write_config(tmp_path / 'other.py', dict(type='DRSformer', **SMALL, mefc=other))
    torch.save({'params': data['state_dict']}, tmp_path / 'release.pth')
    with pytest.raises(CheckpointMismatchError, match='MEFC') as info:
        convert_checkpoint(tmp_path / 'release.pth', tmp_path / 'out.pth', config=config)
    assert expected in str(info.value)
    assert not (tmp_path / 'out.pth').exists()


def test_command_line_refuses_a_small_file_for_the_released_arch(tmp_path, capsys):
    from tools.convert_checkpoint import main
    torch.save({'params': golden('drsformer')['mefc']['state_dict']}, tmp_path / 'small.pth')
    assert main(['--arch', 'drsformer', str(tmp_path / 'small.pth'),
                 str(tmp_path / 'out.pth')]) == 1
    assert 'shape mismatch at patch_embed.proj.weight' in capsys.readouterr().err
    assert not (tmp_path / 'out.pth').exists()


def test_dense_attention_equals_keeping_every_channel():
    sparse = MODELS.build(dict(type='TopKSparseAttention', dim=8, num_heads=2,
                               keep=[(1, 1)])).eval()
    dense = MODELS.build(dict(type='MDTA', dim=8, num_heads=2)).eval()
    state = sparse.state_dict()
    state['attn1'] = torch.ones(1)
    sparse.load_state_dict(state)
    dense.load_state_dict({k: v for k, v in state.items() if k != 'attn1'})
    x = torch.rand(1, 8, 4, 4)
    with torch.no_grad():
        assert torch.allclose(sparse(x), dense(x), atol=1e-6)
        sparse.keep = [(1, 2)]     # half the channels: a different output
        assert not torch.allclose(sparse(x), dense(x), atol=1e-3)


def test_ablation_components_swap_by_config():
    for attention, ffn in ((dict(type='MDTA'), dict(type='ConvFFN')),
                           (dict(type='TopKSparseAttention', keep=[(1, 2)]), dict(type='GDFN'))):
        generator = MODELS.build(dict(type='DRSformer', **SMALL, attention=attention, ffn=ffn,
                                      mefc=dict(type='NoMEFC'))).eval()
        with torch.no_grad():
            assert generator(torch.rand(1, 3, 16, 16))[0].shape == (1, 3, 16, 16)
    with pytest.raises(ValueError, match='keep must be fractions'):
        MODELS.build(dict(type='TopKSparseAttention', dim=8, num_heads=1, keep=[(0, 2)]))
