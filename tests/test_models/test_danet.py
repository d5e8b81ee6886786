"""DANet at defaults matches the release; every component variant builds, runs and trains."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from danet.registry import MODELS
from danet.utils.complexity import count_parameters

PAPER_PARAMS = 2_943_138


def build(**overrides) -> nn.Module:
    return MODELS.build(dict(type='DANet', **overrides))


def params_without_act(module: nn.Module) -> int:
    """Parameters minus the shared PReLU scalar (DANET_SPEC lists it separately)."""
    has_act = any(isinstance(m, nn.PReLU) for m in module.modules())
    return count_parameters(module) - int(has_act)


@pytest.fixture(scope='module')
def paper():
    return build()


def test_paper_parameter_count_and_shared_prelu(paper):
    assert count_parameters(paper) == PAPER_PARAMS
    prelus = {id(m) for m in paper.modules() if isinstance(m, nn.PReLU)}
    assert len(prelus) == 2  # one per sub-network
    # the release lists the shared scalar under every CAB: 18 in DSNet, 16 in SSNet
    assert sum(v.numel() for v in paper.state_dict().values()) == PAPER_PARAMS + 32


def test_per_component_counts_match_spec(paper):
    ds, ss = paper.dsnet, paper.ssnet
    expected = {
        ds.sampling.shallow_feat1: 77_504, ds.sampling.shallow_feat2: 82_688,
        ds.sampling.fuse_conv: 73_728, ds.trunk.orsnet: 794_624,
        ds.trunk.unet.encoder: 116_736, ds.trunk.unet.decoder: 390_912,
        ds.trunk.fuse: 11_584, ds.tail: 1_728, ss.alm: 5_184, ss.trunk.orsnet: 794_624,
        ss.trunk.unet.encoder: 116_736, ss.trunk.unet.decoder: 390_912, ss.trunk.fuse: 11_584,
        ss.reconstruction.deep_conv: 73_728, ss.reconstruction.tail: 864}
    for module, count in expected.items():
        assert params_without_act(module) == count, module
    assert count_parameters(ds) == 1_549_505
    assert count_parameters(ss) == 1_393_633


def test_paper_outputs_and_size_divisor():
    model = build(n_feat=16, num_cab=1)
    final, background = model(torch.rand(2, 3, 32, 48))
    assert final.shape == (2, 3, 32, 48) and background.shape == (2, 3, 16, 24)
    assert model.size_divisor == 16


def test_quadrant_stack_order():
    from danet.models.danet.sampling import PaperSampling
    x = torch.arange(16.).view(1, 1, 4, 4).expand(1, 3, 4, 4)
    stacked = PaperSampling.stack(x)
    assert stacked.shape == (1, 12, 2, 2)
    assert stacked[0, ::3, 0, 0].tolist() == [0, 2, 8, 10]  # TL, TR, BL, BR corners


# (overrides, parameter change at n_feat=64 relative to the paper model; None: not fixed here)
VARIANTS = {
    'pixel_unshuffle': (dict(sampling=dict(type='PixelUnshuffleSampling')), 0),
    'no_sampling': (dict(sampling=dict(type='NoSampling')), -(82_688 + 73_728) - 55_296),
    'no_orsnet': (dict(rain_trunk=dict(type='DualBranchTrunk', orsnet=dict(type='NoBranch'))),
                  -(794_624 + 11_584)),
    'no_unet': (dict(rain_trunk=dict(type='DualBranchTrunk', unet=dict(type='NoBranch'))),
                -(116_736 + 390_912 + 11_584)),
    'no_texture_trunk': (dict(texture_trunk=dict(type='DualBranchTrunk', orsnet=dict(
        type='NoBranch'), unet=dict(type='NoBranch'))), -(1_313_856 + 1)),  # its PReLU goes too
    'plain_alm': (dict(alm=dict(type='PlainALM')), -2 * 1_728),
    'concat_alm': (dict(alm=dict(type='ConcatALM')), 3 * 64 * 64),
    'magnitude_mask': (dict(alm=dict(type='PaperALM', mask=dict(type='RainMagnitudeMask'))),
                       -1_728),
    'bilinear_recon': (dict(reconstruction=dict(type='BilinearReconstruction')),
                       64 * 3 * 9 - 74_592),
    'transposed_recon': (dict(reconstruction=dict(type='TransposedConvReconstruction')),
                         64 * 32 * 16 + 864 - 74_592),
    'no_skip': (dict(reconstruction=dict(type='PixelShuffleReconstruction',
                                         skip=dict(type='NoBackgroundSkip'))), 0),
}


@pytest.mark.parametrize('name', list(VARIANTS))
def test_variant_parameter_change(name):
    overrides, delta = VARIANTS[name]
    assert count_parameters(build(**overrides)) - PAPER_PARAMS == delta


@pytest.mark.parametrize('name', list(VARIANTS))
def test_variant_forward_backward(name):
    overrides, _ = VARIANTS[name]
    model = build(n_feat=8, num_cab=1, **overrides)
    final, background = model(torch.rand(1, 3, 64, 64))
    scale = model.dsnet.sampling.scale
    assert final.shape == (1, 3, 64, 64) and background.shape == (1, 3, 64 // scale, 64 // scale)
    (final.square().mean() + background.square().mean()).backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert not unused


def test_no_sampling_is_full_resolution_with_smaller_divisor():
    model = build(n_feat=16, num_cab=1, sampling=dict(type='NoSampling'))
    assert model.size_divisor == 8
    x = torch.rand(1, 3, 24, 40)
    final, background = model(x)
    assert final.shape == background.shape == x.shape


def test_divisor_follows_the_unet_branches():
    off = dict(type='DualBranchTrunk', unet=dict(type='NoBranch'))
    assert build(n_feat=8, num_cab=1, rain_trunk=off, texture_trunk=off).size_divisor == 2


def test_graph_variants_change_outputs_with_identical_weights():
    torch.manual_seed(0)
    paper = build(n_feat=8, num_cab=1).eval()
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        final, background = paper(x)
        unshuffle = build(n_feat=8, num_cab=1, sampling=dict(type='PixelUnshuffleSampling'))
        unshuffle.load_state_dict(paper.state_dict())
        assert not torch.allclose(unshuffle.eval()(x)[0], final)
        no_skip = build(n_feat=8, num_cab=1, reconstruction=dict(
            type='PixelShuffleReconstruction', skip=dict(type='NoBackgroundSkip')))
        no_skip.load_state_dict(paper.state_dict())
        upsampled = F.interpolate(background, scale_factor=2, mode='bilinear', align_corners=False)
        torch.testing.assert_close(no_skip.eval()(x)[0] + upsampled, final)


def test_magnitude_mask_is_normalised():
    from danet.models.danet.alm import RainMagnitudeMask
    mask = RainMagnitudeMask()(torch.randn(2, 3, 8, 8))
    assert mask.shape == (2, 1, 8, 8)
    assert torch.allclose(mask.amax(dim=(1, 2, 3)), torch.ones(2), atol=1e-4) and mask.min() >= 0


def test_cfg_options_swap_only_the_type(repo_root):
    from mmengine.config import Config
    cfg = Config.fromfile(repo_root / 'configs/_base_/models/danet.py')
    cfg.merge_from_dict({'model.generator.alm.type': 'PlainALM',
                         'model.generator.n_feat': 16, 'model.generator.num_cab': 1})
    model = MODELS.build(cfg.model.generator)
    assert type(model.ssnet.alm).__name__ == 'PlainALM'
    cfg = Config.fromfile(repo_root / 'configs/_base_/models/danet.py')
    assert count_parameters(MODELS.build(cfg.model.generator)) == PAPER_PARAMS


def test_unknown_component_type_names_it():
    with pytest.raises(KeyError, match='PaperAlm'):
        build(alm=dict(type='PaperAlm'))
