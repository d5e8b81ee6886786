"""DerainModel: loss keys and values, prediction crop, training step; with a tiny net and DANet."""
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from torch import nn

from danet.models.derain_model import DerainModel
from danet.models.losses import EdgeLoss, SSIMLoss
from danet.registry import MODELS
from danet.structures import DerainSample

DANET_LOSSES = [dict(type='CharbonnierLoss', name='char', outputs=[0], loss_weight=0.3),
                dict(type='EdgeLoss', name='edge', outputs=[0], loss_weight=0.2),
                dict(type='SSIMLoss', name='ssim', outputs=[0], loss_weight=0.15)]


class TinyNet(nn.Module):
    """Two outputs like DANet: a full-res image and a half-res one; needs sides divisible by 4."""

    size_divisor = 4

    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x):
        assert x.shape[-1] % 4 == 0 and x.shape[-2] % 4 == 0, 'unpadded input'
        out = x + self.body(x)
        return [out, F.avg_pool2d(out, 2)]


def _batch(sizes, seed=0):
    gen = torch.Generator().manual_seed(seed)
    items = []
    for i, (h, w) in enumerate(sizes):
        image = torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=gen)
        gt = torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=gen)
        items.append(dict(inputs=image, data_samples=DerainSample(
            gt_img=gt, metainfo=dict(name=f'{i}.png'))))
    return pseudo_collate(items)


def _model(constraint='BackgroundSupervision', generator=None):
    return DerainModel(generator or TinyNet(), losses=[*DANET_LOSSES, dict(type=constraint)])


@pytest.mark.parametrize('constraint', ['BackgroundSupervision', 'NoAssociationConstraint'])
def test_loss_returns_every_key_and_each_contains_loss(constraint):
    model = _model(constraint)
    losses = model(**model.data_preprocessor(_batch([(8, 8)]), True), mode='loss')
    assert set(losses) == {'loss_char', 'loss_edge', 'loss_ssim', 'loss_assoc_char',
                           'loss_assoc_edge'}
    off = constraint == 'NoAssociationConstraint'
    assert (losses['loss_assoc_char'].item() == 0) == off
    _, log_vars = model.parse_losses(losses)
    assert log_vars['loss'].item() == pytest.approx(sum(v.item() for v in losses.values()))


def test_default_loss_equals_hand_computation():
    model = _model()
    data = model.data_preprocessor(_batch([(8, 12), (8, 12)]), True)
    losses = model(**data, mode='loss')
    with torch.no_grad():
        final, background = model.generator(data['inputs'])
    target = torch.stack([s.gt_img for s in data['data_samples']])
    half = F.avg_pool2d(target, 2)  # bilinear ×½ with align_corners=False on even sizes

    def char(a, b):
        return torch.sqrt((a - b) ** 2 + 1e-6).mean()

    edge, ssim = EdgeLoss().criterion, SSIMLoss().ssim
    expected = (0.3 * (char(final, target) + 0.8 * char(background, half))
                + 0.2 * (edge(final, target) + 0.8 * edge(background, half))
                - 0.15 * ssim(final, target))
    total = sum(losses.values())
    assert total.item() == pytest.approx(expected.item(), abs=1e-6)


@pytest.mark.parametrize('size', [(8, 8), (9, 7), (50, 70)])
def test_predict_crops_back_to_the_input_size(size):
    model = _model().eval()
    samples = model.test_step(_batch([size]))
    pred = samples[0].pred_img
    assert pred.shape == (3, *size) and 0 <= pred.min() and pred.max() <= 1
    assert samples[0].gt_img.shape == (3, *size) and samples[0].gt_img.dtype == torch.float32


def test_predict_on_mixed_sizes_matches_one_by_one():
    model = _model().eval()
    together = model.test_step(_batch([(8, 12), (10, 6)]))
    alone = model.test_step(dict(inputs=[_batch([(8, 12), (10, 6)])['inputs'][1]]))
    torch.testing.assert_close(together[1].pred_img, alone[0].pred_img)


def test_train_step_updates_parameters():
    model = _model()
    before = [p.detach().clone() for p in model.parameters()]
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    log_vars = model.train_step(_batch([(8, 8)]), wrapper)
    assert 'loss' in log_vars and 'loss_assoc_edge' in log_vars
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_tensor_mode_returns_raw_outputs_and_bad_mode_is_named():
    model = _model()
    outputs = model(torch.rand(1, 3, 8, 8), mode='tensor')
    assert [tuple(o.shape) for o in outputs] == [(1, 3, 8, 8), (1, 3, 4, 4)]
    with pytest.raises(ValueError, match="'bogus'"):
        model(torch.rand(1, 3, 8, 8), mode='bogus')


def test_builds_from_registry_takes_size_divisor_and_refuses_repeated_keys():
    MODELS.register_module(name='TinyNetForTests', module=TinyNet, force=True)
    try:
        model = MODELS.build(dict(type='DerainModel', generator=dict(type='TinyNetForTests'),
                                  losses=DANET_LOSSES))
        assert isinstance(model.generator, TinyNet) and model.data_preprocessor.size_divisor == 4
        explicit = DerainModel(dict(type='TinyNetForTests'), data_preprocessor=dict(
            type='DerainDataPreprocessor', size_divisor=32))
        assert explicit.data_preprocessor.size_divisor == 32
        with pytest.raises(ValueError, match="repeated: \\['char'\\]"):
            DerainModel(dict(type='TinyNetForTests'), losses=[
                *DANET_LOSSES, dict(type='BackgroundSupervision',
                                    losses=[dict(type='EdgeLoss', name='char')])])
    finally:
        MODELS.module_dict.pop('TinyNetForTests')


def test_the_old_association_constraint_key_still_works_with_a_warning():
    """A config that still sets ``model.association_constraint`` (the slot before it became a
    ``losses`` entry) replaces the loss group of ``losses``, or adds one, with a warning."""
    off = dict(type='NoAssociationConstraint')
    data = dict(inputs=torch.rand(1, 3, 8, 8),
                data_samples=[DerainSample(gt_img=torch.rand(3, 8, 8))])
    for losses in (DANET_LOSSES, [*DANET_LOSSES, dict(type='BackgroundSupervision')]):
        with pytest.warns(FutureWarning, match='association_constraint is deprecated'):
            model = DerainModel(TinyNet(), losses=losses, association_constraint=off)
        assert [type(t).__name__ for t in model.losses][3:] == ['NoAssociationConstraint']
        values = model(**model.data_preprocessor(data, True), mode='loss')
        assert values['loss_assoc_char'].item() == 0 and values['loss_char'].item() > 0


def test_the_default_danet_config_builds_the_released_loss(shared_data):
    """configs/danet at defaults: the five released terms with their weights, the association
    constraint one entry of ``losses`` (DANET_SPEC §2), the total equal to the released one."""
    from mmengine.config import Config
    golden = torch.load(shared_data / 'reference_outputs' / 'danet_official_random.pth',
                        weights_only=True)
    cfg = Config.fromfile(Path(__file__).resolve().parents[2]
                          / 'configs/danet/danet_1xb16-1000e_rain13k.py')
    model = MODELS.build(dict(cfg.model, generator=TinyNet()))
    weights = {}
    for term in model.losses:
        for t in getattr(term, 'terms', [term]):
            weights[t.name] = (type(t).__name__, t.outputs, t.loss_weight)
    assert weights == {'char': ('CharbonnierLoss', [0], 0.3), 'edge': ('EdgeLoss', [0], 0.2),
                       'ssim': ('SSIMLoss', [0], 0.15),
                       'assoc_char': ('CharbonnierLoss', [1], 0.24),
                       'assoc_edge': ('EdgeLoss', [1], 0.16)}
    outputs, target = golden['outputs'], golden['input']
    total = 0
    for term in model.losses:
        found = term(outputs, target)
        total = total + (sum(found.values()) if isinstance(found, dict) else found)
    assert total.item() == pytest.approx(0.651746, abs=1e-5)


def test_loss_without_gt_is_a_clear_error():
    model = _model()
    data = model.data_preprocessor(dict(inputs=torch.rand(1, 3, 8, 8)), True)
    with pytest.raises(ValueError, match='gt_img'):
        model(**data, mode='loss')


@pytest.fixture(scope='module')
def small_danet():
    if 'DANet' not in MODELS.all_names():
        pytest.skip('DANet is not registered yet (danet/models/danet/)')
    torch.manual_seed(0)
    return MODELS.build(dict(type='DANet', n_feat=8, num_cab=1))


def test_danet_predicts_any_size_and_returns_all_loss_keys(small_danet):
    model = _model(generator=small_danet)
    assert model.data_preprocessor.size_divisor == small_danet.size_divisor == 16
    model.eval()
    assert model.test_step(_batch([(50, 70)]))[0].pred_img.shape == (3, 50, 70)
    model.train()
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    log_vars = model.train_step(_batch([(32, 32)]), wrapper)
    expected = {'loss_char', 'loss_edge', 'loss_ssim', 'loss_assoc_char', 'loss_assoc_edge'}
    assert expected <= set(log_vars)


def test_channels_last_training_gives_the_plain_losses_and_gradients():
    from danet.engine.rewrites import rewrite_kernels
    cfg = dict(type='DerainModel', generator=dict(type='DANet', n_feat=8, num_cab=1),
               losses=[*DANET_LOSSES, dict(
                   type='BackgroundSupervision', output=1,
                   losses=[dict(type='CharbonnierLoss', name='assoc_char', loss_weight=0.24)])])
    models = []
    for channels_last in (False, True):
        torch.manual_seed(0)
        models.append(MODELS.build(dict(cfg, channels_last=channels_last)).train())
    rewrite_kernels(models[1].generator)   # as DerainRunner prepares a channels-last model
    assert all(p.is_contiguous(memory_format=torch.channels_last)
               for p in models[1].generator.parameters() if p.ndim == 4)
    data = models[0].data_preprocessor(_batch([(32, 32), (32, 32)]), True)
    grads = []
    for model in models:
        losses = model(**data, mode='loss')
        sum(losses.values()).backward()
        grads.append({k: p.grad for k, p in model.named_parameters()})
        model.last_losses = losses
    for key, value in models[0].last_losses.items():
        torch.testing.assert_close(models[1].last_losses[key], value, atol=1e-5, rtol=1e-4)
    for key, grad in grads[0].items():
        torch.testing.assert_close(grads[1][key], grad, atol=1e-4, rtol=1e-3, msg=key)
