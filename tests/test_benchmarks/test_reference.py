"""The benchmarks' yardstick: the authors' DANet re-stated reproduces the golden outputs and loss,
and the platform's DANet (plain and engine paths) gives the same outputs on the same weights."""
import numpy as np
import pytest
import torch

from danet.apis.inference import derain
from danet.benchmarks.reference import ReferenceDANet, recipe_loss
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
