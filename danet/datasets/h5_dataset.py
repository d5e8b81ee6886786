"""``H5PairedDataset``: degraded/target pairs (or degraded photos without targets) from a file
packed by ``python -m data_tools pack`` (the file format calls the inputs ``rainy`` for every
task)."""
from collections.abc import Sequence
from pathlib import Path

from danet.datasets.h5format import PackedFile
from danet.datasets.paired_base import PairedImageDataset
from danet.registry import DATASETS


@DATASETS.register_module()
class H5PairedDataset(PairedImageDataset):
    """Pairs from a packed HDF5 file, opened lazily in each DataLoader worker.

    Args:
        ann_file: the packed ``.h5``.
        pipeline: transform configs, e.g. ``[dict(type='PairedRandomCrop', crop_size=256),
            dict(type='PairedFlipRot8')]`` for training, ``[]`` for full test images. A random
            crop reads only the HDF5 chunks under its window.
        split: ``'train'``/``'val'`` selects the split stored by ``pack --val-fraction``.
        test_mode: recorded for MMEngine; the pipeline decides what is returned.
        testset: name recorded in each sample (default: the file's stem).
    """

    def __init__(self, ann_file: str, pipeline: Sequence = (), split: str | None = None,
                 test_mode: bool = False, testset: str | None = None):
        super().__init__(pipeline, split, test_mode)
        self.packed = PackedFile(ann_file)
        manifest = self.packed.manifest
        self.names = list(manifest.column('rainy', 'name'))
        self.dataset_hash = self.packed.content_hash
        self.testset = testset or Path(ann_file).stem
        if split is None:
            self.indices = list(range(manifest.num_rainy))
        elif manifest.split is None:
            raise ValueError(f'{ann_file} stores no train/val split; repack with '
                             '--val-fraction or use split=None')
        else:
            self.indices = manifest.split[split]

    def _load(self, index: int) -> tuple:
        return self.packed.rainy(index), self.packed.clean(index)
