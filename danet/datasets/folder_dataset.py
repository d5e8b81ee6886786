"""``FolderPairedDataset``: the ``H5PairedDataset`` interface over unpacked image folders."""
from collections.abc import Sequence
from pathlib import Path

from danet.datasets.image_files import BadInputError, decode_rgb, discover
from danet.datasets.paired_base import PairedImageDataset
from danet.registry import DATASETS


@DATASETS.register_module()
class FolderPairedDataset(PairedImageDataset):
    """Pairs from a folder in one of ``data_tools``' layouts (default ``pairs``: the degraded
    inputs ``rainy/``, ``hazy/`` or ``low/NAME`` ↔ ``clean/NAME``; without ``clean/`` a set of
    real photos without targets).

    Every image is decoded on each access (no content hash: ``dataset_hash`` is None; pack the
    folder to get one). Non-RGB images raise unless ``convert=True``. ``split`` is not
    supported here (pack with ``--val-fraction``). ``ann_file`` is the folder (the argument name
    every dataset here takes for what it reads); the others as ``H5PairedDataset``.
    """

    def __init__(self, ann_file: str, pipeline: Sequence = (), layout: str = 'pairs',
                 test_mode: bool = False, testset: str | None = None, convert: bool = False):
        super().__init__(pipeline, None, test_mode)
        groups, problems = discover(ann_file, layout)
        if problems:
            raise BadInputError(problems, f'cannot read {ann_file} as layout {layout!r}')
        self.items = [(name, degraded, group.clean) for group in groups
                      for name, degraded in group.rainy]
        self.names = [name for name, _, _ in self.items]
        self.convert = convert
        self.dataset_hash = None
        self.testset = testset or Path(ann_file).name
        self.indices = list(range(len(self.items)))

    def _load(self, index: int) -> tuple:
        _, input_path, target_path = self.items[index]
        degraded, _ = decode_rgb(input_path, self.convert)
        target = None if target_path is None else decode_rgb(target_path, self.convert)[0]
        return degraded, target
