"""PCNet: the authors' parameter count, their outputs from tests/data (their model/PCNet.py with
redrawn weights, run outside the repo: docs/reproductions.md), and both outputs trained."""
from pathlib import Path

import pytest
import torch

from danet.registry import MODELS
from danet.utils.complexity import count_parameters

GOLDEN = Path(__file__).resolve().parents[1] / 'data' / 'pcnet_authors_random.pth'


def test_parameter_count_equals_the_release():
    assert count_parameters(MODELS.build(dict(type='PCNet'))) == 627_462


def test_outputs_equal_the_authors_code():
    golden = torch.load(GOLDEN, weights_only=True)
    generator = MODELS.build(dict(type='PCNet', **golden['kwargs'])).eval()
    generator.load_state_dict(golden['state_dict'], strict=True)   # the authors' key names
    with torch.no_grad():
        outputs = generator(golden['input'])
    assert len(outputs) == 2
    for ours, theirs in zip(outputs, golden['outputs'], strict=True):
        assert (ours - theirs).abs().max().item() <= 1e-4
        assert theirs.std() > 100 * 1e-4   # the tolerance is far below the signal


def test_the_rain_output_is_trained_against_the_rainy_input():
    from mmengine.config import Config

    from danet.structures import DerainSample
    repo = Path(__file__).resolve().parents[2]
    cfg = Config.fromfile(str(repo / 'configs' / 'pcnet' / 'pcnet_1xb32-1000e_rain13k.py'))
    cfg.model.generator.update(n_feat=8, num_crb=1, num_rcab=1)
    model = MODELS.build(cfg.model)
    rainy, clean = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    losses = model(rainy, [DerainSample(gt_img=c) for c in clean], mode='loss')
    assert set(losses) == {'loss_char', 'loss_char_rain', 'loss_edge', 'loss_ssim',
                           'loss_ssim_rain'}
    background, rain = model(rainy, mode='tensor')
    expected = 0.06 * torch.sqrt((rain - rainy) ** 2 + 1e-6).mean()
    assert losses['loss_char_rain'].item() == pytest.approx(expected.item(), rel=1e-5)
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in model.generator.parameters())
