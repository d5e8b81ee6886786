"""The benchmarks' yardsticks: the authors' DANet re-stated reproduces the golden outputs and loss,
and the platform's DANet (plain and engine paths) gives the same outputs on the same weights; the
authors' PReNet classes re-stated reproduce the released golden outputs."""
from pathlib import Path

import numpy as np
import pytest
import torch

from danet.apis.inference import derain
from danet.benchmarks.reference import ReferenceDANet, ReferencePReNet, recipe_loss
from danet.engine.inference import InferenceEngine
from danet.models.danet.official import from_official
from danet.registry import MODELS


@pytest.fixture(scope='module')
def golden(shared_data):
    return torch.load(shared_data / 'reference_outputs' / 'danet_official_random.pth',
                      weights_only=True)


def test_reference_reproduces_golden_outputs_loss_and_size(golden):
    net = ReferenceDANet(golden['state_dict'])
    with torch.no_grad():
        outputs = net(golden['input'])
    for ours, theirs in zip(outputs, golden['outputs'], strict=True):
        assert ours.shape == theirs.shape
        assert (ours - theirs).abs().max() <= 1e-4
    # DANET_SPEC §2.2a: the released losses on these outputs with the input as target
    assert recipe_loss(golden['outputs'], golden['input']).item() == pytest.approx(0.651746,
                                                                                   abs=2e-6)
    assert sum(p.numel() for p in ReferenceDANet(golden['state_dict'], True).parameters()) \
        == 2_943_138


def test_platform_paths_equal_the_reference(golden):
    model = MODELS.build(dict(type='DerainModel', generator=dict(type='DANet')))
    model.generator.load_state_dict(from_official(golden['state_dict']))
    image = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)  # padded
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        plain = model.eval().test_step(dict(inputs=[torch.from_numpy(image).permute(2, 0, 1)]))
        padded = torch.nn.functional.pad(x, (0, 8, 0, 8), mode='reflect')
        reference = ReferenceDANet(golden['state_dict'])(padded)[0][..., :40, :56].clamp(0, 1)
    engine = InferenceEngine(model)
    fast = engine.predict(dict(inputs=[torch.from_numpy(image).permute(2, 0, 1)]))
    assert (plain[0].pred_img - reference[0]).abs().max() <= 1e-4
    assert (fast[0].pred_img - reference[0]).abs().max() <= 1e-4
    assert fast[0].pred_img.is_contiguous()
    ours = derain(engine, image).astype(int)
    theirs = (reference[0] * 255).round().byte().permute(1, 2, 0).numpy().astype(int)
    assert np.abs(ours - theirs).max() <= 1 and (ours != theirs).mean() < 1e-3


def test_reference_prenet_reproduces_the_released_golden_outputs(shared_data):
    """Each re-stated ``networks.py`` class gives the golden outputs of a released file of it
    (the real-photo files are ``generator.py``'s class, not re-stated)."""
    golden = torch.load(Path(__file__).resolve().parents[1] / 'data' / 'prenet_released_golden.pth',
                        weights_only=True)
    files = {'Rain100L/PRN6': 'PRN', 'Rain100H/PRN6_r': 'PRN_r', 'Rain100L/PReNet6': 'PReNet',
             'Rain1400/PReNet6_r': 'PReNet_r', 'Ablation/PReNet6_GRU': 'PReNet_GRU',
             'Ablation/PReNet6_x': 'PReNet_x', 'Ablation/PReNet5_LSTM': 'PReNet_LSTM'}
    for key, arch in files.items():
        weights = torch.load(shared_data / 'released_weights' / 'PReNet' / key / 'net_latest.pth',
                             map_location='cpu', weights_only=True)
        with torch.no_grad():
            final, stage_outputs = ReferencePReNet(weights, arch, 5 if '5' in key else 6)(
                golden['input'])
        ours = torch.stack([final[0], stage_outputs[0][0]])
        assert (ours - golden['outputs'][key]).abs().max() <= 1e-4, key
    with pytest.raises(ValueError, match="unknown PReNet class 'PReNet_y'"):
        ReferencePReNet(weights, 'PReNet_y')
