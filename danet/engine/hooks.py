"""Hooks: provenance (``env.json``), per-epoch reseeding for resumable determinism,
channels-last weights on CUDA, and a test hook that kills a training at a known epoch."""
import os
import signal

import torch
from mmengine.dist import get_rank, is_main_process
from mmengine.hooks import Hook
from mmengine.runner.loops import BaseLoop

from danet.engine.seeding import EPOCH_STREAM, seed_everything, stream_seed
from danet.registry import HOOKS
from danet.utils.provenance import collect_env, record_env


def built_datasets(runner) -> dict:
    """``{name: dataset}`` of the loops this invocation has built (train, val, every test set)."""
    datasets = {}
    for phase in ('train', 'val'):
        loop = getattr(runner, f'_{phase}_loop')
        if isinstance(loop, BaseLoop):
            datasets[phase] = loop.dataloader.dataset
    test_loop = runner._test_loop
    if isinstance(test_loop, BaseLoop):
        loaders = getattr(test_loop, 'dataloaders', [test_loop.dataloader])
        for index, loader in enumerate(loaders):
            name = getattr(loader.dataset, 'metainfo', {}).get('testset') or f'test{index}'
            datasets[f'test/{name}'] = loader.dataset
    return datasets


@HOOKS.register_module()
class ProvenanceHook(Hook):
    """Before the run, write ``<work_dir>/env.json``: git state, packages, device, seed, config
    hash, the content hash of every dataset the run reads and, for training, the train/test
    overlap check (rank 0 only)."""

    priority = 'VERY_LOW'

    def before_run(self, runner) -> None:
        if not is_main_process():
            return
        phase = 'train' if isinstance(runner._train_loop, BaseLoop) else 'test'
        device = next(runner.model.parameters()).device
        record = collect_env(runner.cfg, runner.seed, device, built_datasets(runner), phase)
        if phase == 'train':
            record['train_test_overlap'] = getattr(runner, 'train_test_overlap', None)
        record_env(runner.work_dir, record)


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Reseed python, numpy and torch of the main process from ``(seed, epoch, rank)`` before
    each training epoch (an iteration-based loop calls it once, at its start).

    This covers what the main process draws: the transforms when ``num_workers=0``, the
    progressive loop's crops and any randomness in the model or loss; the rank is always mixed
    in, so ranks never repeat each other's draws. The model's initial weights are drawn before
    training, from MMEngine's ``randomness`` settings, not here. DataLoader workers are seeded
    separately, from ``(seed, epoch, rank, worker_id)``, by ``danet.engine.seeding.WorkerSeeder``,
    which ``DerainRunner.build_dataloader`` installs when the run has a seed and the config names
    no ``worker_init_fn`` of its own. A run resumed at an epoch boundary then repeats the
    uninterrupted run's draws, except with ``persistent_workers=True``: those workers start once,
    their streams run on across epochs and restart on resume (``danet.engine.seeding``).
    """

    priority = 'VERY_HIGH'

    def before_train_epoch(self, runner) -> None:
        seed_everything(stream_seed(EPOCH_STREAM, runner.seed, runner.epoch, get_rank()))


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Before the run, put the model's weights in channels-last memory format on CUDA
    (convolutions then run NHWC, activations follow); nothing on CPU. Added by
    ``gpu.channels_last``."""

    def before_run(self, runner) -> None:
        if next(runner.model.parameters()).is_cuda:
            runner.model.to(memory_format=torch.channels_last)


KILL_AT = 'DANET_TRAIN_KILL_AT'
"""Test hook: ``epochN`` makes a training SIGKILL itself once epoch N's checkpoint and its
``last_checkpoint`` pointer are written, so that tests kill it at a known point, never by the
clock (``DerainRunner`` registers ``KillAtHook`` only when this is set)."""


class KillAtHook(Hook):
    priority = 'LOWEST'   # after CheckpointHook has saved the epoch and written the pointer

    def __init__(self, point: str):
        self.point = point

    def after_train_epoch(self, runner) -> None:
        if self.point == f'epoch{runner.epoch + 1}':
            os.kill(os.getpid(), signal.SIGKILL)
