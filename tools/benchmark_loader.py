"""Random-crop loading speed: packed HDF5 vs the same PNG/JPEG files, side by side in one run.

    python tools/benchmark_loader.py [--src ../shared/data/Rain100L] [--workers 2] [--crops 800]

Packs ``--src`` (``pairs`` layout) into a temporary file (timing the pack and comparing sizes),
then draws random ``--crop``² crops (+ flip/rot) through ``H5PairedDataset`` and
``FolderPairedDataset`` with the same DataLoader settings and prints crops/s and their ratio.
"""
import argparse
import tempfile
import time
from pathlib import Path

from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader, RandomSampler

from danet.datasets.folder_dataset import FolderPairedDataset
from danet.datasets.h5_dataset import H5PairedDataset
from danet.datasets.pack import pack


def crops_per_second(dataset, crops: int, workers: int, batch: int) -> float:
    sampler = RandomSampler(dataset, replacement=True, num_samples=crops + batch)
    loader = DataLoader(dataset, batch_size=batch, sampler=sampler, num_workers=workers,
                        collate_fn=pseudo_collate)
    seen, start = 0, None
    for data in loader:
        if start is None:  # exclude worker start-up and the first batch
            start = time.perf_counter()
            continue
        seen += len(data['inputs'])
    return seen / (time.perf_counter() - start)


def main() -> None:
    default_src = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'Rain100L'
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--src', default=str(default_src))
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--crop', type=int, default=256)
    parser.add_argument('--crops', type=int, default=800)
    parser.add_argument('--compression', default='none', choices=('none', 'gzip', 'lzf'))
    args = parser.parse_args()

    src = Path(args.src)
    source_bytes = sum(p.stat().st_size for p in src.rglob('*') if p.is_file())
    pipeline = [dict(type='PairedRandomCrop', crop_size=args.crop), dict(type='PairedFlipRot8')]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / 'bench.h5'
        start = time.perf_counter()
        manifest = pack(src, out, compression=args.compression)
        pack_s = time.perf_counter() - start
        n_images = len(manifest['rainy']) + len(manifest['clean'])
        h5 = H5PairedDataset(out, pipeline=pipeline)
        folder = FolderPairedDataset(src, pipeline=pipeline)
        rates = {name: crops_per_second(ds, args.crops, args.workers, args.batch)
                 for name, ds in (('hdf5', h5), ('folder', folder))}
        h5_bytes = out.stat().st_size
    print(f'source {src}: {n_images} images, {source_bytes / 2**20:.1f} MiB')
    print(f'pack ({args.compression}): {pack_s:.2f} s, {n_images / pack_s:.1f} images/s, '
          f'{source_bytes / 2**20 / pack_s:.1f} MiB/s of source; file {h5_bytes / 2**20:.1f} MiB '
          f'= {h5_bytes / source_bytes:.2f}x the source files')
    print(f'{args.crop}x{args.crop} crops/s, {args.workers} workers, batch {args.batch}: '
          f'hdf5 {rates["hdf5"]:.0f}, folder {rates["folder"]:.0f}, '
          f'ratio {rates["hdf5"] / rates["folder"]:.1f}x')


if __name__ == '__main__':
    main()
