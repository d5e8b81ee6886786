"""Random-crop loading speed (``tools/benchmark_loader.py``): a source folder packed into a
temporary HDF5 file (the pack timed, the sizes compared), then the same random crops (+ flip/rot)
drawn through ``H5PairedDataset`` and ``FolderPairedDataset`` with one DataLoader setting."""
import tempfile
import time
from pathlib import Path

from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader, RandomSampler

from danet.datasets.folder_dataset import FolderPairedDataset
from danet.datasets.h5_dataset import H5PairedDataset
from danet.datasets.pack import pack


def crops_per_second(dataset, crops: int, workers: int, batch: int) -> float:
    """Items per second a shuffled DataLoader yields, after its first batch (worker start-up)."""
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


def loader_benchmark(src: Path, workers: int = 2, batch: int = 16, crop: int = 256,
                     crops: int = 800, compression: str = 'none') -> dict:
    """Pack ``src`` (``pairs`` layout), time both loaders, print and return the figures."""
    src = Path(src)
    source_bytes = sum(p.stat().st_size for p in src.rglob('*') if p.is_file())
    pipeline = [dict(type='PairedRandomCrop', crop_size=crop), dict(type='PairedFlipRot8')]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / 'bench.h5'
        start = time.perf_counter()
        manifest = pack(src, out, compression=compression)
        pack_s = time.perf_counter() - start
        n_images = manifest.num_rainy + manifest.num_clean
        h5 = H5PairedDataset(out, pipeline=pipeline)
        folder = FolderPairedDataset(src, pipeline=pipeline)
        rates = {name: crops_per_second(ds, crops, workers, batch)
                 for name, ds in (('hdf5', h5), ('folder', folder))}
        h5_bytes = out.stat().st_size
    print(f'source {src}: {n_images} images, {source_bytes / 2**20:.1f} MiB')
    print(f'pack ({compression}): {pack_s:.2f} s, {n_images / pack_s:.1f} images/s, '
          f'{source_bytes / 2**20 / pack_s:.1f} MiB/s of source; file {h5_bytes / 2**20:.1f} MiB '
          f'= {h5_bytes / source_bytes:.2f}x the source files')
    print(f'{crop}x{crop} crops/s, {workers} workers, batch {batch}: '
          f'hdf5 {rates["hdf5"]:.0f}, folder {rates["folder"]:.0f}, '
          f'ratio {rates["hdf5"] / rates["folder"]:.1f}x')
    return dict(images=n_images, source_bytes=source_bytes, h5_bytes=h5_bytes, pack_s=pack_s,
                crops_per_s=rates)
