"""Training options on CPU: bf16 autocast, gradient clipping, EMA (validated, tested, saved and
resumed), the progressive patch/batch loop, and GPU keys that must not break a CPU run."""
import json

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from danet.engine.options import apply_training_options
from danet.engine.runner import run_testing, run_training

ALL_ON = {'+amp': True, 'ema.enabled': True, 'ema.momentum': 0.2,
          '+optim_wrapper.clip_grad.max_norm': 0.05,
          **{f'gpu.{k}': True for k in ('cudnn_benchmark', 'channels_last', 'pin_memory',
                                        'non_blocking', 'compile')}}


def _options_cfg():
    return Config(dict(
        amp=True, ema=dict(enabled=True, momentum=0.01, begin_iter=5),
        gpu=dict(cudnn_benchmark=True, channels_last=True, pin_memory=True, non_blocking=True,
                 compile=True),
        optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='Adam')),
        model=dict(type='DerainModel', data_preprocessor=dict(type='DerainDataPreprocessor')),
        custom_hooks=[dict(type='ProvenanceHook')],
        train_dataloader=dict(batch_size=2), val_dataloader=dict(batch_size=1),
        test_dataloader=[dict(batch_size=1), dict(batch_size=1)]))


def test_options_map_to_mmengine_settings_on_cuda_and_are_left_off_on_cpu():
    cuda = _options_cfg()
    assert apply_training_options(cuda, cuda=True) == []
    apply_training_options(cuda, cuda=True)   # idempotent: a run's config.py is re-applied
    assert cuda.optim_wrapper.type == 'AmpOptimWrapper' and cuda.optim_wrapper.dtype == 'float16'
    assert [h['type'] for h in cuda.custom_hooks] == ['ProvenanceHook', 'EMAHook',
                                                      'ChannelsLastHook']
    assert cuda.custom_hooks[1]['momentum'] == 0.01 and cuda.custom_hooks[1]['begin_iter'] == 5
    assert cuda.env_cfg.cudnn_benchmark and cuda.compile and \
        cuda.model.data_preprocessor.non_blocking
    assert all(d.pin_memory for d in [cuda.train_dataloader, cuda.val_dataloader,
                                      *cuda.test_dataloader])
    cpu = _options_cfg()
    assert apply_training_options(cpu, cuda=False) == ['cudnn_benchmark', 'channels_last',
                                                        'pin_memory', 'non_blocking', 'compile']
    assert cpu.optim_wrapper.type == 'BF16OptimWrapper'
    assert [h['type'] for h in cpu.custom_hooks] == ['ProvenanceHook', 'EMAHook']
    assert 'env_cfg' not in cpu and 'compile' not in cpu and 'pin_memory' not in \
        cpu.train_dataloader
    bad = _options_cfg()
    bad.gpu.cudnn = True
    with pytest.raises(ValueError, match='gpu: unknown key.*cudnn; the gpu options are'):
        apply_training_options(bad, cuda=False)


class ForwardDtype(Hook):
    """The dtype of the generator's first convolution output in each training step."""

    def __init__(self):
        self.dtypes = []

    def before_run(self, runner) -> None:
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        conv = next(m for m in model.generator.modules() if isinstance(m, torch.nn.Conv2d))
        conv.register_forward_hook(
            lambda module, args, out: self.dtypes.append(out.dtype) if module.training else None)


def _scalars(work_dir):
    return [json.loads(line) for line in
            (work_dir / 'logs' / 'vis_data' / 'scalars.json').read_text().splitlines()]


@pytest.mark.slow
def test_cpu_run_with_amp_clip_ema_and_gpu_keys_validates_tests_and_resumes_ema(
        tiny_cfg, tmp_path, train_with_hooks):
    straight = tmp_path / 'straight'
    dtypes = ForwardDtype()
    runner = train_with_hooks(tiny_cfg(straight, max_epochs=2, **ALL_ON), dtypes)
    assert set(dtypes.dtypes) == {torch.bfloat16} and len(dtypes.dtypes) == 4   # bf16 steps
    assert type(runner.optim_wrapper).__name__ == 'BF16OptimWrapper'
    log = max((straight / 'logs').glob('*.log')).read_text()
    assert 'no CUDA, left off' in log and 'compile' in log
    records = _scalars(straight)
    assert sum('grad_norm' in r for r in records) == 4   # clipping ran every step
    assert list(straight.glob('best_val_psnr_y_epoch_*.pth'))   # best names its metric
    checkpoint = torch.load(straight / 'epoch_2.pth', map_location='cpu', weights_only=False)
    ema, raw = checkpoint['state_dict'], checkpoint['ema_state_dict']
    key = next(k for k in ema if k.endswith('weight'))
    assert not torch.equal(ema[key], raw['module.' + key])   # EMA and raw weights differ
    # validation ran on the EMA weights, scored like a test: testing the checkpoint (its
    # state_dict holds the EMA weights) on the validation split gives the logged values
    cfg = tiny_cfg(tmp_path / 'test', max_epochs=2, **ALL_ON)
    cfg.test_dataloader = [dict(cfg.val_dataloader, dataset=dict(cfg.val_dataloader.dataset,
                                                                   testset='valsplit'))]
    cfg.test_evaluator = [dict(type='Evaluator', metrics=[
        dict(type='DerainMetric', metrics=['psnr_y', 'ssim_y'])])]
    metrics = run_testing(cfg, straight / 'epoch_2.pth')
    logged = [r for r in records if 'val/psnr_y' in r][-1]
    assert metrics['valsplit/psnr_y'] == pytest.approx(logged['val/psnr_y'], abs=1e-4)
    assert metrics['valsplit/ssim_y'] == pytest.approx(logged['val/ssim_y'], abs=1e-4)
    # killed after epoch 1 and resumed: the same weights and EMA weights as the straight run
    resumed = tmp_path / 'resumed'
    train_with_hooks(tiny_cfg(resumed, max_epochs=2, **ALL_ON), crash=True)
    run_training(tiny_cfg(resumed, max_epochs=2, **ALL_ON), resume=True)
    again = torch.load(resumed / 'epoch_2.pth', map_location='cpu', weights_only=False)
    for name in ('state_dict', 'ema_state_dict'):
        assert checkpoint[name].keys() == again[name].keys()
        for k in checkpoint[name]:
            assert torch.equal(checkpoint[name][k], again[name][k]), (name, k)


class BatchShapes(Hook):
    def __init__(self):
        self.shapes = []

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        inputs, samples = data_batch['inputs'], data_batch['data_samples']
        assert all(s.gt_img.shape == i.shape for s, i in zip(samples, inputs, strict=True))
        self.shapes.append((len(inputs), *inputs[0].shape[-2:]))


def test_progressive_loop_changes_patch_and_batch_at_the_given_iterations(tiny_cfg, tmp_path,
                                                                         train_with_hooks):
    stages = [dict(begin_iter=0, patch=16, batch=1), dict(begin_iter=3, patch=32, batch=2)]
    cfg = tiny_cfg(tmp_path / 'p', max_epochs=3, **{
        'train_cfg.type': 'ProgressiveTrainLoop', '+train_cfg.stages': stages,
        'train_cfg.val_interval': 10})
    shapes = BatchShapes()
    train_with_hooks(cfg, shapes)
    assert shapes.shapes == [(1, 16, 16)] * 3 + [(2, 32, 32)] * 3
    logged = [(r['patch'], r['batch']) for r in _scalars(tmp_path / 'p') if 'patch' in r]
    assert logged[0] == (16, 1) and logged[-1] == (32, 2)
    too_big = tiny_cfg(tmp_path / 'q', max_epochs=1, **{
        'train_cfg.type': 'ProgressiveTrainLoop',
        '+train_cfg.stages': [dict(begin_iter=0, patch=16, batch=3)]})
    with pytest.raises(ValueError, match='batch_size 2 is smaller than the largest stage batch 3'):
        train_with_hooks(too_big)
    odd = tiny_cfg(tmp_path / 'r', max_epochs=1, **{
        'train_cfg.type': 'ProgressiveTrainLoop',
        '+train_cfg.stages': [dict(begin_iter=0, patch=20, batch=1)]})
    with pytest.raises(ValueError, match=r"\[20\] are not multiples of the generator's"):
        train_with_hooks(odd)
