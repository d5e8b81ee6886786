"""Restormer's and DRSformer's released recipes (configs/restormer, configs/drsformer) trained at
toy scale on CPU: narrow generators and tiny data, everything else as shipped -- progressive
patch/batch stages (Restormer), AdamW, gradient clipping at 0.01, L1, lr held then cosine."""
import json
import math

import pytest
import torch
from mmengine.hooks import Hook

from danet.engine.runner import DerainRunner, load_run_config
from tests.test_engine.conftest import tiny_test_h5

TINY = {'model.generator.dim': 8, 'model.generator.num_blocks': [1, 1, 1, 1]}


class BatchShapes(Hook):
    def __init__(self):
        self.shapes = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.shapes.append((len(data_batch['inputs']), *data_batch['inputs'][0].shape[-2:]))


def toy(config, tiny_h5, work_dir, overrides):
    testsets = len(load_run_config(config, work_dir).test_dataloader)
    options = {
        **TINY, 'train_dataloader.batch_size': 2, 'train_dataloader.num_workers': 0,
        'train_dataloader.dataset.ann_file': str(tiny_h5),
        'val_dataloader.dataset.ann_file': str(tiny_h5),
        **{f'test_dataloader.{i}.dataset.ann_file': str(tiny_test_h5(tiny_h5))
           for i in range(testsets)},
        'train_cfg.max_epochs': 2, 'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 2, 'default_hooks.logger.interval': 1,
        'param_scheduler.0.begin': 2, 'param_scheduler.0.end': 4,
        'param_scheduler.0.T_max': 2, **overrides}
    return load_run_config(config, work_dir, options)


def train(cfg):
    """Train ``cfg`` on one thread (small convolutions; the cores are shared); the runner and
    the (batch, height, width) of every training step."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runner = DerainRunner.from_cfg(cfg)
        shapes = BatchShapes()
        runner.register_hook(shapes, priority='LOWEST')
        runner.train()
    finally:
        torch.set_num_threads(threads)
    return runner, shapes.shapes


def scalars(work_dir):
    return [json.loads(line) for line in
            (work_dir / 'logs' / 'vis_data' / 'scalars.json').read_text().splitlines()]


def check_schedule(runner, records):
    """Four iterations: lr 3e-4 held, then cosine from 3e-4 towards 1e-6 (T_max 2 here)."""
    lrs = [r['lr'] for r in records if 'loss_l1' in r]
    cosine = 1e-6 + (3e-4 - 1e-6) * (1 + math.cos(math.pi / 2)) / 2
    assert lrs == pytest.approx([3e-4, 3e-4, 3e-4, cosine], rel=1e-6)
    assert runner.optim_wrapper.clip_grad_kwargs == {'max_norm': 0.01}
    assert type(runner.optim_wrapper.optimizer).__name__ == 'AdamW'


@pytest.mark.slow
def test_restormer_recipe_trains_with_its_progressive_stages(tiny_h5, repo_root, monkeypatch,
                                                             tmp_path):
    monkeypatch.chdir(repo_root)
    stages = [dict(begin_iter=0, patch=16, batch=2), dict(begin_iter=2, patch=32, batch=1)]
    cfg = toy('configs/restormer/restormer_8xb8-1409e_rain13k.py', tiny_h5, tmp_path / 'r', {
        'model.generator.num_refinement_blocks': 1,
        'train_dataloader.dataset.pipeline.0.crop_size': 32, 'train_cfg.stages': stages})
    assert cfg.train_cfg.type == 'ProgressiveTrainLoop'
    runner, shapes = train(cfg)
    assert shapes == [(2, 16, 16)] * 2 + [(1, 32, 32)] * 2
    check_schedule(runner, scalars(tmp_path / 'r'))
    assert (tmp_path / 'r' / 'epoch_2.pth').exists()


@pytest.mark.slow
@pytest.mark.parametrize('config', ['drsformer_4xb4-2679e_rain200h.py',
                                    'drsformer_no-mefc_4xb4-2679e_rain200l.py'])
def test_drsformer_recipe_trains(config, tiny_h5, repo_root, monkeypatch, tmp_path):
    monkeypatch.chdir(repo_root)
    cfg = toy(f'configs/drsformer/{config}', tiny_h5, tmp_path / 'd', {
        'train_dataloader.dataset.pipeline.0.crop_size': 16})
    runner, shapes = train(cfg)
    assert shapes == [(2, 16, 16)] * 4
    assert hasattr(runner.model.generator, 'encoder_level0') == ('no-mefc' not in config)
    check_schedule(runner, scalars(tmp_path / 'd'))
