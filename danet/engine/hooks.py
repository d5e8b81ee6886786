"""Hooks: provenance (``env.json``) and per-epoch reseeding for resumable determinism."""
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import set_random_seed
from mmengine.runner.loops import BaseLoop

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
    """Reseed python, numpy and torch with ``seed + epoch`` before each training epoch.

    Every epoch's random stream (crops, flips, dataloader worker seeds) then depends only on the
    seed and the epoch, so a run resumed at an epoch boundary continues exactly as an
    uninterrupted one.
    """

    priority = 'VERY_HIGH'

    def before_train_epoch(self, runner) -> None:
        set_random_seed(runner.seed + runner.epoch,
                        diff_rank_seed=runner._randomness_cfg.get('diff_rank_seed', False))
