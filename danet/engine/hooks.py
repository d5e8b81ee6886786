"""Hooks: provenance (``env.json``), per-epoch reseeding for resumable determinism, and
channels-last weights on CUDA."""
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import set_random_seed
from mmengine.runner.loops import BaseLoop

from danet.engine.seeding import EPOCH_STREAM, stream_seed
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
    hash and the content hash of every dataset the run reads (rank 0 only)."""

    priority = 'VERY_LOW'

    def before_run(self, runner) -> None:
        if not is_main_process():
            return
        phase = 'train' if isinstance(runner._train_loop, BaseLoop) else 'test'
        device = next(runner.model.parameters()).device
        record_env(runner.work_dir, collect_env(runner.cfg, runner.seed, device,
                                                built_datasets(runner), phase))


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Reseed python, numpy and torch of the main process from ``(seed, epoch)`` before each
    training epoch (plus the rank with ``randomness.diff_rank_seed``).

    This covers what the main process draws: the transforms when ``num_workers=0`` and any
    randomness in the model or loss. DataLoader *workers* do not inherit it: they are seeded
    from ``(seed, epoch, rank, worker_id)`` by ``danet.engine.seeding.WorkerSeeder``, which
    ``DerainRunner`` installs on every loader. Both streams depend only on the seed and the
    epoch, so a run resumed at an epoch boundary continues exactly as an uninterrupted one.
    """

    priority = 'VERY_HIGH'

    def before_train_epoch(self, runner) -> None:
        set_random_seed(stream_seed(EPOCH_STREAM, runner.seed, runner.epoch),
                        diff_rank_seed=runner._randomness_cfg.get('diff_rank_seed', False))


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Before the run, put the model's weights in channels-last memory format on CUDA
    (convolutions then run NHWC, activations follow); nothing on CPU. Added by
    ``gpu.channels_last``."""

    def before_run(self, runner) -> None:
        if next(runner.model.parameters()).is_cuda:
            runner.model.to(memory_format=torch.channels_last)
