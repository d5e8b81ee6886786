"""H5PairedDataset and FolderPairedDataset: item contract, crops, workers, splits."""
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader

from danet.datasets.folder_dataset import FolderPairedDataset
from danet.datasets.h5_dataset import H5PairedDataset
from danet.datasets.image_files import decode_rgb
from danet.datasets.pack import pack
from danet.registry import DATASETS


def test_full_images_match_folder_dataset(tiny_pairs):
    src, h5 = tiny_pairs
    packed = DATASETS.build(dict(type='H5PairedDataset', ann_file=str(h5), test_mode=True))
    folder = DATASETS.build(dict(type='FolderPairedDataset', ann_file=str(src), test_mode=True))
    assert len(packed) == len(folder) == 6 and packed.dataset_hash and folder.dataset_hash is None
    for i in range(6):
        a, b = packed[i], folder[i]
        assert a['inputs'].dtype == torch.uint8 and a['inputs'].shape[0] == 3
        assert torch.equal(a['inputs'], b['inputs'])
        assert torch.equal(a['data_samples'].gt_img, b['data_samples'].gt_img)
        meta = a['data_samples'].metainfo
        assert meta['ori_shape'] == tuple(a['inputs'].shape[1:])
        assert meta['name'] == b['data_samples'].name and meta['testset'] == 'tiny'
        assert meta['dataset_hash'] == packed.dataset_hash


def test_train_crops_from_h5_equal_crops_of_full_image(tiny_pairs):
    src, h5 = tiny_pairs
    dataset = H5PairedDataset(h5, pipeline=[dict(type='PairedRandomCrop', crop_size=16)])
    np.random.seed(5)
    item = dataset[0]
    np.random.seed(5)
    box = dataset.pipeline.transforms[0](dict(img=np.zeros((40, 56, 3)), gt=None))['crop_box']
    top, left = box[:2]
    full = decode_rgb(src / 'rainy' / '00.png')[0]
    expected = torch.from_numpy(full[top:top + 16, left:left + 16].transpose(2, 0, 1).copy())
    assert torch.equal(item['inputs'], expected)
    assert item['data_samples'].metainfo['ori_shape'] == (40, 56)


def test_two_workers_read_every_item_through_an_openmmlab_pipeline(tiny_pairs):
    """Ours inside mmcv's wrappers (built under the ``danet`` default scope, as the runner
    sets it), in two worker processes."""
    _, h5 = tiny_pairs
    init_default_scope('danet')
    dataset = H5PairedDataset(h5, pipeline=[
        dict(type='PairedRandomCrop', crop_size=16),
        dict(type='RandomApply', transforms=[dict(type='PairedFlipRot8')], prob=1.0)])
    loader = DataLoader(dataset, batch_size=2, num_workers=2, collate_fn=pseudo_collate)
    samples = [s for batch in loader for s in batch['data_samples']]
    assert sorted(s.name for s in samples) == sorted(dataset.names)
    assert all('flip_rot_mode' in s.augment for s in samples)
    assert all(b['inputs'][0].shape == (3, 16, 16) for b in loader)


def test_split_has_no_shared_background(tiny_pairs):
    _, h5 = tiny_pairs
    train, val = (H5PairedDataset(h5, split=s) for s in ('train', 'val'))
    assert len(train) + len(val) == 6 and len(val) >= 1
    gts = [{d[i]['data_samples'].gt_img.numpy().tobytes() for i in range(len(d))}
           for d in (train, val)]
    assert not gts[0] & gts[1]


def test_errors_name_the_problem(tiny_pairs, tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.h5'):
        H5PairedDataset(tmp_path / 'missing.h5')
    with pytest.raises(ValueError, match='split'):
        H5PairedDataset(tiny_pairs[1], split='test')
    (tmp_path / 'src' / 'rainy').mkdir(parents=True)
    (tmp_path / 'src' / 'rainy' / 'a.png').write_bytes((tiny_pairs[0] / 'rainy' / '00.png')
                                                       .read_bytes())
    pack(tmp_path / 'src', tmp_path / 'nosplit.h5', workers=1)
    with pytest.raises(ValueError, match='no train/val split'):
        H5PairedDataset(tmp_path / 'nosplit.h5', split='train')


def test_rainy_only_items_have_no_gt(tiny_pairs, tmp_path):
    src = tmp_path / 'real'
    (src / 'rainy').mkdir(parents=True)
    (src / 'rainy' / 'a.png').write_bytes((tiny_pairs[0] / 'rainy' / '03.png').read_bytes())
    pack(src, tmp_path / 'real.h5', workers=1)
    for dataset in (H5PairedDataset(tmp_path / 'real.h5'), FolderPairedDataset(src)):
        sample = dataset[0]['data_samples']
        assert 'gt_img' not in sample and sample.ori_shape == (56, 40)
