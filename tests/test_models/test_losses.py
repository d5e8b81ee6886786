"""Loss terms: formulas, target resizing, association variants and the golden released values."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from danet.models.losses import (
    BackgroundSupervision,
    CharbonnierLoss,
    EdgeLoss,
    L1Loss,
    NoAssociationConstraint,
    SSIMLoss,
)
from danet.registry import MODELS


def _band_pass_numpy(image: np.ndarray) -> np.ndarray:
    """Independent H×W reference: replicate-padded 5×5 blur, even pixels ×4, blur, subtract."""
    taps = np.array([0.05, 0.25, 0.4, 0.25, 0.05])
    kernel = np.outer(taps, taps)

    def blur(x):
        padded = np.pad(x, 2, mode='edge')
        out = np.zeros_like(x)
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                out[i, j] = (padded[i:i + 5, j:j + 5] * kernel).sum()
        return out

    sparse = np.zeros_like(image)
    sparse[::2, ::2] = blur(image)[::2, ::2] * 4
    return image - blur(sparse)


def test_charbonnier_is_mean_of_sqrt_d2_plus_eps2():
    pred, target = torch.zeros(1, 1, 2, 2), torch.tensor([0.0, 1.0, -2.0, 0.5]).view(1, 1, 2, 2)
    expected = np.mean(np.sqrt(np.array([0.0, 1.0, 4.0, 0.25]) + 1e-6))
    assert CharbonnierLoss()([pred], target).item() == pytest.approx(expected, rel=1e-6)


def test_l1_is_mean_absolute_error_named_l1():
    pred, target = torch.zeros(1, 1, 2, 2), torch.tensor([0.0, 1.0, -2.0, 0.5]).view(1, 1, 2, 2)
    term = L1Loss(loss_weight=2.0)
    assert term.name == 'l1'
    assert term([pred], target).item() == pytest.approx(2.0 * 3.5 / 4, rel=1e-6)


@pytest.mark.parametrize('channels', [1, 3, 5])
def test_edge_band_pass_matches_reference_for_any_channel_count(channels):
    image = torch.rand(2, channels, 9, 12, generator=torch.Generator().manual_seed(channels))
    ours = EdgeLoss().band_pass(image)
    for b in range(2):
        for c in range(channels):
            np.testing.assert_allclose(ours[b, c].numpy(),
                                       _band_pass_numpy(image[b, c].double().numpy()), atol=1e-6)


def test_edge_kernel_is_a_non_persistent_buffer():
    loss = EdgeLoss()
    assert 'kernel' not in loss.state_dict() and 'kernel' in dict(loss.named_buffers())
    assert loss.kernel.sum().item() == pytest.approx(1.0)
    assert loss.kernel.max().item() == pytest.approx(0.16)


def test_ssim_loss_is_minus_one_for_identical_images_and_larger_otherwise():
    image = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    loss = SSIMLoss()
    assert loss([image], image).item() == pytest.approx(-1.0, abs=1e-6)
    assert loss([image], image.flip(-1)).item() > -0.9


def test_weight_and_outputs_sum_and_target_is_resized_by_2x2_mean():
    target = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    full, half = torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 4, 4)
    term = CharbonnierLoss(outputs=[0, 1], loss_weight=0.5)
    down = F.avg_pool2d(target, 2)
    expected = 0.5 * (torch.sqrt(target ** 2 + 1e-6).mean() + torch.sqrt(down ** 2 + 1e-6).mean())
    assert term([full, half], target).item() == pytest.approx(expected.item(), rel=1e-6)


def test_term_selecting_a_missing_output_names_it():
    with pytest.raises(ValueError, match="'edge' selects output 2"):
        EdgeLoss(outputs=[2])([torch.zeros(1, 3, 8, 8)], torch.zeros(1, 3, 8, 8))


def test_no_association_constraint_keeps_keys_with_zero_values():
    terms = [dict(type='CharbonnierLoss', name='a'), dict(type='EdgeLoss', name='b')]
    outputs = [torch.rand(1, 3, 8, 8, requires_grad=True), torch.rand(1, 3, 4, 4)]
    target = torch.rand(1, 3, 8, 8)
    on = BackgroundSupervision(output=1, losses=terms)(outputs, target)
    off = NoAssociationConstraint(output=1, losses=terms)(outputs, target)
    assert set(on) == set(off) == {'loss_a', 'loss_b'}
    assert all(v.item() > 0 for v in on.values()) and all(v.item() == 0 for v in off.values())
    (outputs[0].sum() + sum(off.values())).backward()  # zeros sum into a backward pass


def test_constraint_rejects_terms_on_other_outputs():
    with pytest.raises(ValueError, match='applies to \\[1\\]'):
        BackgroundSupervision(output=1, losses=[dict(type='CharbonnierLoss', outputs=[0])])


def test_danet_golden_loss_values(shared_data):
    golden = torch.load(shared_data / 'reference_outputs' / 'danet_official_random.pth',
                        weights_only=True)
    outputs, target = golden['outputs'], golden['input']
    values = {
        'char': CharbonnierLoss()(outputs, target), 'char_bg': CharbonnierLoss(outputs=[1])(
            outputs, target), 'edge': EdgeLoss()(outputs, target),
        'edge_bg': EdgeLoss(outputs=[1])(outputs, target), 'ssim': SSIMLoss()(outputs, target)}
    released = {'char': 1.132869, 'char_bg': 0.534167, 'edge': 0.785394, 'edge_bg': 0.188491,
                'ssim': -0.023678}
    for key, value in released.items():
        assert values[key].item() == pytest.approx(value, abs=2e-6), key
    model_terms = [MODELS.build(dict(type='CharbonnierLoss', loss_weight=0.3)),
                   MODELS.build(dict(type='EdgeLoss', loss_weight=0.2)),
                   MODELS.build(dict(type='SSIMLoss', loss_weight=0.15))]
    total = sum(t(outputs, target) for t in model_terms)
    total = total + sum(BackgroundSupervision()(outputs, target).values())
    assert total.item() == pytest.approx(0.651746, abs=1e-5)


def test_mprnet_golden_loss_value(shared_data):
    golden = torch.load(shared_data / 'reference_outputs' / 'mprnet_official_random.pth',
                        weights_only=True)
    outputs, target = golden['outputs'], golden['input']
    edges = [EdgeLoss(outputs=[i])(outputs, target).item() for i in range(3)]
    assert edges == pytest.approx([1.39970, 0.40507, 0.19575], abs=1e-5)
    total = (CharbonnierLoss(outputs=[0, 1, 2])(outputs, target)
             + EdgeLoss(outputs=[0, 1, 2], loss_weight=0.05)(outputs, target))
    assert total.item() == pytest.approx(9.14948, abs=1e-5)
