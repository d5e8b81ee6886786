"""What the packed and the folder datasets share: pipeline, split selection and item packing."""
from collections.abc import Sequence

import numpy as np
import torch
from mmcv.transforms import Compose
from torch.utils.data import Dataset

from danet.datasets.transforms import as_array
from danet.registry import TRANSFORMS
from danet.structures import RestorationSample

SPLITS = ('train', 'val')
# What the random transforms record of their draws; kept in the sample's ``augment`` metainfo.
AUGMENT_KEYS = ('crop_box', 'flip_rot_mode', 'rain_strength')


class PairedImageDataset(Dataset):
    """Base of ``H5PairedDataset`` and ``FolderPairedDataset``.

    An item is ``dict(inputs=degraded uint8 3×H×W, data_samples=RestorationSample(gt_img=target
    uint8 3×H×W, metainfo=dict(name, ori_shape, dataset_hash, testset)))``, ``gt_img`` absent for
    sets without targets; collate with ``mmengine.dataset.pseudo_collate``. ``ori_shape`` is the
    stored image's (H, W) before any transform; ``augment`` (only when a transform drew
    something) holds the draws of :data:`AUGMENT_KEYS`. Subclasses set ``names``,
    ``dataset_hash`` and ``testset`` and implement ``_load``. ``pipeline``: transform configs
    (``danet`` or mmcv ``TRANSFORMS``; mmcv's wrappers build their children under the default
    scope, which the runner sets) or callables, run as one mmcv ``Compose``.
    """

    def __init__(self, pipeline: Sequence = (), split: str | None = None,
                 test_mode: bool = False):
        if split not in (None, *SPLITS):
            raise ValueError(f'split must be one of None, {", ".join(SPLITS)}; got {split!r}')
        self.split, self.test_mode = split, test_mode
        self.pipeline = Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t
                                 for t in pipeline])
        self.indices: list[int] = []

    @property
    def metainfo(self) -> dict:
        return {'testset': self.testset, 'dataset_hash': self.dataset_hash, 'split': self.split}

    def _load(self, index: int) -> tuple:
        """``(degraded input, target or None)`` for stored image ``index``, numpy or lazy arrays."""
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, idx: int) -> dict:
        index = self.indices[idx]
        img, gt = self._load(index)
        ori_shape = tuple(int(n) for n in img.shape[:2])
        results = {'img': img, 'gt': gt, 'name': self.names[index]}
        results = self.pipeline(results)
        sample = RestorationSample(metainfo={
            'name': self.names[index], 'ori_shape': ori_shape,
            'dataset_hash': self.dataset_hash, 'testset': self.testset})
        augment = {key: results[key] for key in AUGMENT_KEYS if key in results}
        if augment:
            sample.set_metainfo({'augment': augment})
        if results['gt'] is not None:
            sample.gt_img = _to_tensor(results['gt'])
        return {'inputs': _to_tensor(results['img']), 'data_samples': sample}


def _to_tensor(img) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(as_array(img).transpose(2, 0, 1)))
