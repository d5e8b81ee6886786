"""Fresh augmentation every epoch from 2 real DataLoader workers, reproducible from the seed and
after a resume (issue 11, bug 1: workers restarted each epoch with the same seeds)."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook

from danet.engine import hooks
from danet.engine.hooks import EpochSeedHook
from danet.engine.seeding import WorkerSeeder


class RecordDraws(Hook):
    """``draws[epoch][batch_idx]``: the augmentation draws of each sample of the batch."""

    def __init__(self):
        self.draws = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        batch = []
        for sample in data_batch['data_samples']:
            draws = sample.metainfo['augment']
            batch.append((*draws['crop_box'][:2], draws['flip_rot_mode'], draws['rain_strength']))
        self.draws.setdefault(runner.epoch, {})[batch_idx] = batch


@pytest.mark.slow
def test_two_workers_draw_fresh_augmentation_every_epoch_reproducibly(tiny_cfg, tmp_path,
                                                                    train_with_hooks):
    options = {'train_dataloader.num_workers': 2, 'train_cfg.val_interval': 10}
    cfg = tiny_cfg(tmp_path / 'a', max_epochs=3, **options)
    assert cfg.train_dataloader.persistent_workers is False
    def draws(cfg, **kwargs):
        recorder = RecordDraws()
        train_with_hooks(cfg, recorder, **kwargs)
        return recorder.draws
    first = draws(cfg)
    assert sorted(first) == [0, 1, 2] and all(sorted(e) == [0, 1] for e in first.values())
    # batch 0 comes from worker 0, batch 1 from worker 1: every slot gets new draws each epoch
    for a, b in ((0, 1), (0, 2), (1, 2)):
        for batch in (0, 1):
            for slot_a, slot_b in zip(first[a][batch], first[b][batch], strict=True):
                assert slot_a != slot_b, (a, b, batch, slot_a)
    for epoch in first.values():   # and the two workers draw differently
        assert epoch[0] != epoch[1]
    assert draws(tiny_cfg(tmp_path / 'b', max_epochs=3, **options)) == first
    # resumed after the first epoch (RNG states scrambled), the next two draw as before
    work_dir = tmp_path / 'resumed'
    draws(tiny_cfg(work_dir, max_epochs=3, **options), crash=True)
    np.random.seed(99)
    resumed = draws(tiny_cfg(work_dir, max_epochs=3, **options), resume=True)
    assert sorted(resumed) == [1, 2] and {e: first[e] for e in (1, 2)} == resumed


def test_worker_seeds_differ_by_epoch_rank_and_worker_and_repeat():
    class Sampler:
        epoch = 0
    sampler = Sampler()
    seeds = {}
    for epoch in range(3):
        sampler.epoch = epoch
        for rank in range(2):
            for worker in range(3):
                seeds[epoch, rank, worker] = WorkerSeeder(1234, rank, sampler).worker_seed(worker)
    assert len(set(seeds.values())) == len(seeds)
    sampler.epoch = 1
    seeder = WorkerSeeder(1234, 1, sampler)
    seeder(2)
    drawn = np.random.rand(3)
    seeder(2)
    assert np.array_equal(drawn, np.random.rand(3)) and seeder.worker_seed(2) == seeds[1, 1, 2]



def test_main_process_stream_differs_by_epoch_and_rank_and_repeats(monkeypatch):
    """``EpochSeedHook`` (transforms with ``num_workers=0``, the progressive loop's crops): two
    ranks never share draws, even with ``diff_rank_seed=False``."""
    runner = SimpleNamespace(seed=1234, epoch=0)
    draws = {}
    for rank in (0, 1):
        monkeypatch.setattr(hooks, 'get_rank', lambda rank=rank: rank)
        for epoch in (0, 1):
            runner.epoch = epoch
            EpochSeedHook().before_train_epoch(runner)
            draws[rank, epoch] = (np.random.rand(), torch.rand(1).item())
    assert len({d[0] for d in draws.values()}) == len({d[1] for d in draws.values()}) == 4
    EpochSeedHook().before_train_epoch(runner)   # rank 1, epoch 1 again
    assert (np.random.rand(), torch.rand(1).item()) == draws[1, 1]
