"""Random streams derived from the run's seed: per (epoch, rank) in the main process
(``EpochSeedHook``), and per (epoch, rank, worker) in DataLoader workers.

MMEngine's ``worker_init_fn`` seeds a worker with ``seed + worker_id (+ rank)``. With
``persistent_workers=False`` the workers restart every epoch with the same seeds, so every
epoch drew the same crops, flips and rain strengths (only the image order changed).
:class:`WorkerSeeder` seeds each worker from ``(seed, epoch, rank, worker_id)`` mixed by numpy's
``SeedSequence`` (no two tuples share a stream, unlike sums such as ``seed + epoch``), reading
the epoch from the sampler, which ``DistSamplerSeedHook`` sets before each epoch. Draws then
differ between epochs, workers and ranks, and a run resumed at an epoch boundary repeats them.
With ``persistent_workers=True`` the workers start once and their streams run on across epochs
(still fresh each epoch, but a resumed run restarts them: not bit-identical).
"""
import random

import numpy as np
import torch

WORKER_STREAM, EPOCH_STREAM = 1, 0   # separate the main-process and worker streams


def stream_seed(*keys: int) -> int:
    """A 31-bit seed mixed from the non-negative integers ``keys`` (``SeedSequence``); room is
    left to add a rank and stay a valid numpy seed."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0]) >> 1


def seed_everything(seed: int) -> None:
    """Seed python's ``random``, numpy's global RNG and torch's CPU generator with ``seed``."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class WorkerSeeder:
    """``worker_init_fn`` seeding a DataLoader worker from ``(seed, epoch, rank, worker_id)``.

    Args:
        seed: the run's seed.
        rank: this process's rank.
        sampler: the loader's sampler; its ``epoch`` (0 if it has none) at worker start is the
            epoch. It is read in the worker, i.e. as it was when the workers were started.
    """

    def __init__(self, seed: int, rank: int, sampler):
        self.seed, self.rank, self.sampler = seed, rank, sampler

    def worker_seed(self, worker_id: int) -> int:
        epoch = getattr(self.sampler, 'epoch', 0)
        return stream_seed(WORKER_STREAM, self.seed, epoch, self.rank, worker_id)

    def __call__(self, worker_id: int) -> None:
        seed_everything(self.worker_seed(worker_id))
