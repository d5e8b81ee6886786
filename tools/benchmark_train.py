"""Training-step speed of DANet and the share of time spent waiting for data, in one run.

    python tools/benchmark_train.py [H5] [--config configs/danet/danet_rain13k.py] [--batch 4]
        [--crop 128] [--workers 2] [--steps 20] [--warmup 3] [--threads N] [--out result.json]

Builds the config's model (default: the released DANet at full width) and optimiser and runs
``model.train_step`` (preprocessing, forward, every loss term, backward, optimiser step) twice,
side by side: fed by a DataLoader over the packed file's ``train`` split (``--crop``² random crops +
flip/rot, ``--workers`` processes), and fed one pre-loaded batch kept in memory. The loader run
times how long each ``next(iterator)`` blocks; its share of the loop's wall time is the data
wait. Without ``H5``, ``../shared/data/Train40`` is packed into a temporary file first.

    python tools/benchmark_train.py --reference [--batch 4] [--crops 128 256] [--threads 1 2]
    python tools/benchmark_train.py --parts [--channels-last] [--batch 4] [--crops 128]

``--reference``: the platform's step (default and ``model.channels_last=True``) ÷ a plain loop of
the authors' recipe (``danet/apis/reference.py``) on the same pre-loaded batch and weights,
interleaved between two worker processes (``danet/apis/ab_benchmark.py``), median of
``--steps`` after ``--warmup``, with page faults per step and the load average. ``--parts``: the
median time of each part of the platform's step (preprocessor, generator forward, losses,
backward, optimiser step) on one pre-loaded batch.
"""
import argparse
import collections
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader, RandomSampler

from danet.datasets.h5_dataset import H5PairedDataset
from danet.datasets.pack import pack
from danet.registry import MODELS, SCOPE
from danet.utils.fileio import atomic_write_json
from danet.utils.memory import keep_freed_memory

REPO = Path(__file__).resolve().parents[1]
TRAIN40 = REPO.parent / 'shared' / 'data' / 'Train40'
GOLDEN = REPO.parent / 'shared/data/reference_outputs/danet_official_random.pth'


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


def benchmark(h5: Path, args) -> dict:
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    pipeline = [dict(type='PairedRandomCrop', crop_size=args.crop), dict(type='PairedFlipRot8')]
    dataset = H5PairedDataset(str(h5), split='train', pipeline=pipeline)
    total = (args.warmup + args.steps) * args.batch
    loader = DataLoader(dataset, batch_size=args.batch, num_workers=args.workers,
                        sampler=RandomSampler(dataset, replacement=True, num_samples=total),
                        collate_fn=pseudo_collate)
    step = build_step(args.config, device)
    fed = time_steps(step, iter(loader), args.warmup, args.steps)
    batch = next(iter(DataLoader(dataset, batch_size=args.batch, collate_fn=pseudo_collate)))
    memory = time_steps(build_step(args.config, device), _repeat(batch), args.warmup, args.steps)
    samples = args.steps * args.batch
    return dict(
        config=args.config, h5=str(h5), device=device, threads=torch.get_num_threads(),
        batch=args.batch, crop=args.crop, workers=args.workers, steps=args.steps,
        samples_per_s_loader=samples / fed['wall_s'],
        samples_per_s_in_memory=samples / memory['wall_s'],
        data_wait_share=fed['data_wait_s'] / fed['wall_s'],
        loader_vs_memory=memory['wall_s'] / fed['wall_s'],
        loader=fed, in_memory=memory)


def reference(args) -> list[dict]:
    from danet.apis.ab_benchmark import HEADER, TRAINING, compare
    if not args.weights.is_file():
        print(f'--weights: {args.weights} not found; give an official-format DANet state dict',
              file=sys.stderr)
        sys.exit(2)
    print(f'load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs); '
          f'shape = batch x crop')
    print(HEADER)
    rows = compare(str(args.weights), [(args.batch, crop) for crop in args.crops],
                   args.threads or [1, 2], args.warmup, args.steps, paths=TRAINING)
    if args.out:
        atomic_write_json(args.out, dict(rows=rows))
    return rows


def step_parts(args) -> dict:
    """Median seconds per step of each part of ``model.train_step`` on one pre-loaded random
    batch (``--batch`` × ``--crops[0]``²), timed by wrapping the parts of this one instance."""
    from danet.structures import DerainSample
    keep_freed_memory()
    cfg = Config.fromfile(args.config)
    model = MODELS.build(dict(cfg.model, channels_last=args.channels_last)).train()
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
    crop, gen = args.crops[0], torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (2 * args.batch, 3, crop, crop), dtype=torch.uint8,
                           generator=gen)
    data = dict(inputs=list(images[:args.batch]),
                data_samples=[DerainSample(gt_img=img) for img in images[args.batch:]])
    names = ('data preprocessor', 'generator forward', 'forward+losses', 'backward',
             'optimizer step', 'zero_grad', 'train_step')
    for step in range(args.warmup + args.steps):
        for name in names:
            times[name].append(0.0)
        timed('train_step', model.train_step)(data, optim)
        if step < args.warmup:
            times.clear()
    parts = {name: statistics.median(values) for name, values in times.items()}
    parts['losses'] = parts.pop('forward+losses') - parts['generator forward']
    total = parts['train_step']
    parts['rest (wrapper, parse_losses)'] = total - sum(v for k, v in parts.items()
                                                        if k != 'train_step')
    print(f'train_step parts, batch {args.batch} x {crop}x{crop}, channels_last='
          f'{args.channels_last}, {torch.get_num_threads()} threads, load '
          f'{os.getloadavg()[0]:.1f}: {1000 * total:.0f} ms per step')
    for name, seconds in parts.items():
        if name != 'train_step':
            print(f'  {name:30} {1000 * seconds:9.1f} ms {100 * seconds / total:5.1f}%')
    return parts


def _repeat(batch):
    while True:
        yield batch


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('h5', nargs='?', help=f'packed training file (default: pack {TRAIN40})')
    parser.add_argument('--config', default=str(REPO / 'configs/danet/danet_rain13k.py'))
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--crop', type=int, default=128)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--steps', type=int, help='timed steps per variant (default 20; '
                        '--reference: 7)')
    parser.add_argument('--warmup', type=int, help='untimed steps first (default 3; '
                        '--reference: 2)')
    parser.add_argument('--threads', type=int, nargs='+',
                        help="torch intra-op threads (default: torch's; --reference: 1 2)")
    parser.add_argument('--out', help='also write the figures to this JSON file')
    parser.add_argument('--reference', action='store_true',
                        help="ours vs a plain loop of the authors' recipe, interleaved")
    parser.add_argument('--crops', type=int, nargs='+', default=[128],
                        help='--reference: crop sizes to time')
    parser.add_argument('--weights', type=Path, default=GOLDEN,
                        help='--reference: official-format DANet state dict')
    parser.add_argument('--parts', action='store_true',
                        help="time each part of the platform's step (in this process)")
    parser.add_argument('--channels-last', action='store_true',
                        help='--parts: build the model with channels_last=True')
    args = parser.parse_args(argv)
    if args.parts:
        args.steps, args.warmup = args.steps or 7, 2 if args.warmup is None else args.warmup
        if args.threads:
            torch.set_num_threads(args.threads[0])
        init_default_scope(SCOPE)
        return step_parts(args)
    if args.reference:
        args.steps, args.warmup = args.steps or 7, 2 if args.warmup is None else args.warmup
        return reference(args)
    args.steps, args.warmup = args.steps or 20, 3 if args.warmup is None else args.warmup
    if args.threads:
        torch.set_num_threads(args.threads[0])
    init_default_scope(SCOPE)
    with tempfile.TemporaryDirectory() as tmp:
        h5 = Path(args.h5) if args.h5 else Path(tmp) / 'Train40.h5'
        if not args.h5:
            pack(TRAIN40, h5, val_fraction=0.1, workers=args.workers)
        result = benchmark(h5, args)
    print(f'{Path(args.config).stem}, batch {args.batch}, {args.crop}x{args.crop} crops, '
          f'{args.workers} workers, {result["device"]} ({result["threads"]} threads), '
          f'{args.steps} steps each:')
    print(f'  samples/s: loader {result["samples_per_s_loader"]:.2f}, pre-loaded batch '
          f'{result["samples_per_s_in_memory"]:.2f} (ratio {result["loader_vs_memory"]:.3f})')
    print(f'  data wait: {result["loader"]["data_wait_s"]:.2f} s of '
          f'{result["loader"]["wall_s"]:.2f} s = {100 * result["data_wait_share"]:.1f}%')
    if args.out:
        atomic_write_json(args.out, result)
    return result


if __name__ == '__main__':
    main()
