"""Training-step speed (``tools/benchmark_train.py``), three ways.

``train_benchmark``: the config's model and optimiser run ``model.train_step`` (preprocessing,
forward, every loss term, backward, optimiser step) twice, side by side: fed by a DataLoader over
the packed file's ``train`` split (random crops + flip/rot, ``workers`` processes), and fed one
pre-loaded batch kept in memory. The loader run times how long each ``next(iterator)`` blocks;
its share of the loop's wall time is the data wait.

``reference_benchmark``: the platform's step (default and ``model.channels_last=True``) ÷ a plain
loop of the authors' recipe (``danet/benchmarks/reference.py``) on the same pre-loaded batch and
weights, interleaved between two worker processes (``danet/benchmarks/ab.py``), median of the
timed steps, with page faults per step and the load average.

``step_parts``: the median time of each part of the platform's step (preprocessor, generator
forward, losses, backward, optimiser step) on one pre-loaded batch.
"""
import collections
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader, RandomSampler

from danet.config_refs import shipped_config
from danet.datasets.h5_dataset import H5PairedDataset
from danet.datasets.pack import pack
from danet.engine.rewrites import rewrite_kernels
from danet.registry import MODELS, SCOPE
from danet.utils.fileio import atomic_write_json
from danet.utils.memory import keep_freed_memory
from danet.utils.shared import shared_data

TRAIN40 = shared_data() / 'Train40'
DEFAULT_CONFIG = str(shipped_config('danet::danet/danet_1xb16-1000e_rain13k.py'))
GOLDEN = shared_data() / 'reference_outputs/danet_official_random.pth'


def build_step(config: str, device: str):
    """``step(batch)``: one optimiser step of ``config``'s model with its fresh optimiser."""
    cfg = Config.fromfile(config)
    model = MODELS.build(cfg.model).to(device).train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)

    def step(batch) -> None:
        model.train_step(batch, optim)
        if device == 'cuda':
            torch.cuda.synchronize()
    return step


def time_steps(step, batches, warmup: int, steps: int) -> dict:
    """Run ``warmup + steps`` steps drawing from the iterator ``batches``; over the timed steps
    return the wall time and the time blocked in ``next(batches)``."""
    for _ in range(warmup):
        step(next(batches))
    wait, start = 0.0, time.perf_counter()
    for _ in range(steps):
        t0 = time.perf_counter()
        batch = next(batches)
        wait += time.perf_counter() - t0
        step(batch)
    return dict(wall_s=time.perf_counter() - start, data_wait_s=wait)


def benchmark(h5: Path, config: str, batch: int, crop: int, workers: int, steps: int,
              warmup: int) -> dict:
    """Loader-fed and in-memory steps of ``config`` over the ``train`` split of ``h5``."""
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    pipeline = [dict(type='PairedRandomCrop', crop_size=crop), dict(type='PairedFlipRot8')]
    dataset = H5PairedDataset(str(h5), split='train', pipeline=pipeline)
    total = (warmup + steps) * batch
    loader = DataLoader(dataset, batch_size=batch, num_workers=workers,
                        sampler=RandomSampler(dataset, replacement=True, num_samples=total),
                        collate_fn=pseudo_collate)
    step = build_step(config, device)
    fed = time_steps(step, iter(loader), warmup, steps)
    first = next(iter(DataLoader(dataset, batch_size=batch, collate_fn=pseudo_collate)))
    memory = time_steps(build_step(config, device), _repeat(first), warmup, steps)
    samples = steps * batch
    return dict(
        config=config, h5=str(h5), device=device, threads=torch.get_num_threads(),
        batch=batch, crop=crop, workers=workers, steps=steps,
        samples_per_s_loader=samples / fed['wall_s'],
        samples_per_s_in_memory=samples / memory['wall_s'],
        data_wait_share=fed['data_wait_s'] / fed['wall_s'],
        loader_vs_memory=memory['wall_s'] / fed['wall_s'],
        loader=fed, in_memory=memory)


def reference_benchmark(weights: Path, batch: int = 4, crops=(128,), threads=None,
                        warmup: int | None = None, steps: int | None = None,
                        out: str | None = None) -> list[dict]:
    """The platform's step (default and channels_last) ÷ the authors' recipe on one pre-loaded
    batch, interleaved between two workers; default 2 warm-up and 7 timed steps, 1 and 2
    threads."""
    from danet.benchmarks.ab import TRAINING
    from danet.benchmarks.ab import reference_benchmark as run
    return run(weights, [(batch, crop) for crop in crops], threads or [1, 2],
               2 if warmup is None else warmup, steps or 7, out, TRAINING)

def step_parts(config: str, batch: int = 4, crop: int = 128, channels_last: bool = False,
               threads: int | None = None, warmup: int | None = None,
               steps: int | None = None) -> dict:
    """Median seconds per step of each part of ``model.train_step`` on one pre-loaded random
    batch (``batch`` × ``crop``²; default 2 warm-up, 7 timed steps), timed by wrapping the parts
    of this one instance; printed as a table."""
    from danet.structures import DerainSample
    warmup, steps = 2 if warmup is None else warmup, steps or 7
    if threads:
        torch.set_num_threads(threads)
    init_default_scope(SCOPE)
    keep_freed_memory()
    cfg = Config.fromfile(config)
    model = MODELS.build(dict(cfg.model, channels_last=channels_last)).train()
    if channels_last:   # as DerainRunner prepares a channels-last model
        rewrite_kernels(model.generator)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    times = collections.defaultdict(list)  # name -> seconds per step

    def timed(name, fn):
        def wrapper(*a, **kw):
            start = time.perf_counter()
            result = fn(*a, **kw)
            times[name][-1] += time.perf_counter() - start
            return result
        return wrapper
    model.data_preprocessor.forward = timed('data preprocessor', model.data_preprocessor.forward)
    model.generator.forward = timed('generator forward', model.generator.forward)
    model.loss = timed('forward+losses', model.loss)
    optim.backward = timed('backward', optim.backward)
    optim.step = timed('optimizer step', optim.step)
    optim.zero_grad = timed('zero_grad', optim.zero_grad)
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (2 * batch, 3, crop, crop), dtype=torch.uint8, generator=gen)
    data = dict(inputs=list(images[:batch]),
                data_samples=[DerainSample(gt_img=img) for img in images[batch:]])
    names = ('data preprocessor', 'generator forward', 'forward+losses', 'backward',
             'optimizer step', 'zero_grad', 'train_step')
    for step in range(warmup + steps):
        for name in names:
            times[name].append(0.0)
        timed('train_step', model.train_step)(data, optim)
        if step < warmup:
            times.clear()
    parts = {name: statistics.median(values) for name, values in times.items()}
    parts['losses'] = parts.pop('forward+losses') - parts['generator forward']
    total = parts['train_step']
    parts['rest (wrapper, parse_losses)'] = total - sum(v for k, v in parts.items()
                                                        if k != 'train_step')
    print(f'train_step parts, batch {batch} x {crop}x{crop}, channels_last='
          f'{channels_last}, {torch.get_num_threads()} threads, load '
          f'{os.getloadavg()[0]:.1f}: {1000 * total:.0f} ms per step')
    for name, seconds in parts.items():
        if name != 'train_step':
            print(f'  {name:30} {1000 * seconds:9.1f} ms {100 * seconds / total:5.1f}%')
    return parts


def _repeat(batch):
    while True:
        yield batch


def train_benchmark(h5: str | None = None, config: str = DEFAULT_CONFIG, batch: int = 4,
                    crop: int = 128, workers: int = 2, steps: int | None = None,
                    warmup: int | None = None, threads: int | None = None,
                    out: str | None = None) -> dict:
    """``benchmark`` (default 3 warm-up, 20 timed steps) over ``h5``, else over Train40 packed
    into a temporary file; printed, and written to ``out`` as JSON."""
    steps, warmup = steps or 20, 3 if warmup is None else warmup
    if threads:
        torch.set_num_threads(threads)
    init_default_scope(SCOPE)
    with tempfile.TemporaryDirectory() as tmp:
        packed = Path(h5) if h5 else Path(tmp) / 'Train40.h5'
        if not h5:
            pack(TRAIN40, packed, val_fraction=0.1, workers=workers)
        result = benchmark(packed, config, batch, crop, workers, steps, warmup)
    print(f'{Path(config).stem}, batch {batch}, {crop}x{crop} crops, '
          f'{workers} workers, {result["device"]} ({result["threads"]} threads), '
          f'{steps} steps each:')
    print(f'  samples/s: loader {result["samples_per_s_loader"]:.2f}, pre-loaded batch '
          f'{result["samples_per_s_in_memory"]:.2f} (ratio {result["loader_vs_memory"]:.3f})')
    print(f'  data wait: {result["loader"]["data_wait_s"]:.2f} s of '
          f'{result["loader"]["wall_s"]:.2f} s = {100 * result["data_wait_share"]:.1f}%')
    if out:
        atomic_write_json(out, result)
    return result
