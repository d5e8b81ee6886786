"""The thread policy: torch's CPU threads chosen so that nothing oversubscribes the cores.

A process gets a CPU budget: ``DANET_CPUS`` if set (the grid runner sets it to its share of the
cores for each parallel run), else the cores this process may use (its CPU affinity, or Slurm's
``SLURM_CPUS_PER_TASK``). Its dataloader workers (each single-threaded, as PyTorch makes them)
each take one core of it and torch's intra-op threads get the rest, at least one. An explicit
``OMP_NUM_THREADS`` wins. On 2 busy cores OpenMP's spinning threads otherwise slowed the smoke
training ~17x (docs/training.md). The thread count changes CPU float reductions, so it is part
of what makes a run reproducible: it is recorded in ``env.json`` and ``ablations plan --json``
prints the ``DANET_CPUS`` of each cell.
"""
import os

import torch

CPUS_ENV = 'DANET_CPUS'
_applied: dict | None = None


def available_cpus() -> int:
    """The cores this process may use: ``SLURM_CPUS_PER_TASK``, else its CPU affinity."""
    slurm = os.environ.get('SLURM_CPUS_PER_TASK', '')
    if slurm.isdigit() and int(slurm) > 0:
        return int(slurm)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _positive_int(name: str) -> int | None:
    value = os.environ.get(name)
    if value is None or value == '':
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f'{name}={value!r}: expected a positive integer (or unset it)')
    return int(value)


def choose_threads(loader_workers: int = 0) -> dict:
    """The policy's choice for this process: ``threads``, ``cpus``, ``loader_workers`` and
    ``source`` (what decided it)."""
    cpus = _positive_int(CPUS_ENV)
    source = CPUS_ENV if cpus else 'cores'
    cpus = cpus or available_cpus()
    threads = max(1, cpus - loader_workers)
    explicit = _positive_int('OMP_NUM_THREADS')
    if explicit:
        threads, source = explicit, 'OMP_NUM_THREADS'
    return dict(threads=threads, cpus=cpus, loader_workers=loader_workers, source=source)


def apply_thread_policy(loader_workers: int = 0) -> dict:
    """Set torch's intra-op threads by :func:`choose_threads` and return the choice."""
    global _applied
    _applied = choose_threads(loader_workers)
    torch.set_num_threads(_applied['threads'])
    return _applied


def applied_policy() -> dict | None:
    """What :func:`apply_thread_policy` chose in this process (None if it was not called)."""
    return _applied


def max_loader_workers(cfg) -> int:
    """The most dataloader workers any of ``cfg``'s train/val/test loaders runs at once."""
    loaders = [cfg.get(key) for key in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    flat = [item for loader in loaders if loader
            for item in (loader if isinstance(loader, list) else [loader])]
    return max([int(loader.get('num_workers', 0)) for loader in flat] or [0])
