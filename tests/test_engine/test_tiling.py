"""Tiled inference: seamless blending, padding to the size divisor, argument checks."""
import re

import pytest
import torch
from torch import nn

from danet.engine.tiling import pad_forward, tiled_forward


def _local_net():
    """Three 3x3 convs: receptive radius 3 px, so overlaps of >= 12 px blend exactly."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1),
                         nn.ReLU(), nn.Conv2d(8, 3, 3, padding=1)).eval()


@pytest.mark.parametrize('size,tile,overlap', [((40, 56), 24, 12), ((37, 50), 28, 16),
                                               ((64, 24), 32, 20)])
def test_tiled_equals_untiled_for_a_local_network(size, tile, overlap):
    net = _local_net()
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        expected = net(x)
        tiled = tiled_forward(net, x, tile=tile, overlap=overlap, size_divisor=1)
    assert tiled.shape == x.shape
    assert torch.allclose(tiled, expected, atol=1e-5)


def test_blending_weights_cover_every_pixel_once():
    x = torch.rand(1, 3, 45, 70)
    for overlap in (0, 5, 15):
        assert torch.allclose(tiled_forward(lambda t: t, x, 16, overlap, 8), x, atol=1e-6)


def test_overlaps_are_blended_not_cut():
    """Each tile adds its own offset: the blend must ramp between offsets, with no hard seam."""
    calls = []

    def offset_fn(t):
        calls.append(t.shape)
        return t * 0 + float(len(calls))

    out = tiled_forward(offset_fn, torch.zeros(1, 1, 16, 40), tile=16, overlap=8, size_divisor=8)
    row = out[0, 0, 8]
    assert len(calls) == 4
    assert row.diff().abs().max() < 0.25
    assert row[0] == 1 and row[-1] == len(calls)


def test_tiles_are_padded_to_the_size_divisor():
    seen = []

    def checking_fn(t):
        seen.append(tuple(t.shape[-2:]))
        return t

    x = torch.rand(1, 3, 30, 45)
    assert torch.allclose(tiled_forward(checking_fn, x, tile=24, overlap=8, size_divisor=8), x)
    assert seen and all(h % 8 == 0 and w % 8 == 0 for h, w in seen)
    assert torch.equal(pad_forward(checking_fn, x[..., :5, :3], 8), x[..., :5, :3])


def test_single_tile_pads_mprnet_input_and_crops_back():
    from danet.models.mprnet import MPRNet
    torch.manual_seed(0)
    net = MPRNet(n_feat=8, scale_unetfeats=4, scale_orsnetfeats=4, num_cab=1).eval()
    x = torch.rand(1, 3, 42, 60)
    padded = torch.nn.functional.pad(x, (0, 4, 0, 6), mode='reflect')
    with torch.no_grad():
        expected = net(padded)[0][..., :42, :60]
        tiled = tiled_forward(lambda t: net(t)[0], x, tile=64, overlap=16, size_divisor=8)
    assert torch.equal(tiled, expected)


@pytest.mark.parametrize('kwargs,match', [(dict(tile=16, overlap=16), 'overlap'),
                                          (dict(tile=4, overlap=0), 'size_divisor'),
                                          (dict(tile=16, overlap=-1), 'overlap')])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tiled_forward(lambda t: t, torch.rand(1, 3, 32, 32), size_divisor=8, **kwargs)


def test_fn_changing_the_size_is_reported():
    with pytest.raises(ValueError, match='same size'):
        tiled_forward(lambda t: t[..., ::2, ::2], torch.rand(1, 3, 32, 32), 16, 4, 8)


def test_a_tile_or_overlap_too_small_to_keep_the_output_is_refused():
    """``--tile 2`` gave an output 31.9 dB from the untiled one without a word."""
    from danet.engine.tiling import MIN_OVERLAP, MIN_TILE, restore_overlap
    assert restore_overlap(MIN_TILE, None) == MIN_OVERLAP == 8      # a quarter of the tile
    assert restore_overlap(512, None) == 32 and restore_overlap(64, 12) == 12
    for tile, overlap, shown in ((2, None, '--tile 2: under the minimum of 32 pixels'),
                                 (31, None, '--tile 31'), (64, 7, '--overlap 7'),
                                 (64, 0, '--overlap 0'), (64, 64, 'under the tile (64)')):
        with pytest.raises(ValueError, match=re.escape(shown)):
            restore_overlap(tile, overlap)


def test_restormer_tiles_pad_to_eight_and_approach_the_whole_image_output():
    """Restormer's MDTA attends over every pixel of its input, so a tiled output is not the whole
    image's; each tile is padded to the divisor 8 (sides 45x83 are not multiples), a tile as large
    as the image gives the whole-image output exactly, and agreement grows with the tile
    (docs/inference.md: the PSNR cost of tiling)."""
    from danet.apis.inference import derain
    from danet.models.derain_model import DerainModel
    from tests.test_models.zoo_golden import SMALL

    torch.manual_seed(0)
    model = DerainModel(dict(type='Restormer', **SMALL, num_refinement_blocks=1)).eval()
    x = torch.rand(1, 3, 45, 83, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        whole = derain(model, x)
        one_tile = derain(model, x, tile=96, overlap=16)
        psnr = {tile: float(10 * torch.log10(1 / (derain(model, x, tile=tile, overlap=16)
                                                  - whole).pow(2).mean()))
                for tile in (32, 64)}
    assert whole.shape == x.shape
    assert torch.equal(one_tile, whole)
    assert 25 < psnr[32] < psnr[64] < 100, psnr   # random weights: 29.4 and 31.0 dB measured
