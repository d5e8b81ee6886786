# What the synthesised tasks (configs/_base_/tasks/dehaze.py, lowlight.py) share: training and
# validation on one packed file with a --val-fraction split (the task sets `ann_file`), and
# `_test_set`, the template of one paired test loader. A task builds its test loaders from it:
#   test_dataloader = [dict(_base_._test_set, dataset=dict(_base_._test_set.dataset,
#                                                      ann_file=PATH, testset=NAME)) ...]
# Any path stays overridable, e.g. --cfg-options test_dataloader.0.dataset.ann_file=/data/X.h5
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='H5PairedDataset', ann_file=None, split='train',
                 pipeline=[dict(type='PairedRandomCrop', crop_size=256),
                           dict(type='PairedFlipRot8')]))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='H5PairedDataset', ann_file=None, split='val', testset='val', pipeline=[]))
val_evaluator = dict(type='Evaluator',
                     metrics=[dict(type='RestorationMetric', metrics=['psnr_y', 'ssim_y'])])
_test_set = dict(batch_size=1, num_workers=2, persistent_workers=False,
                 sampler=dict(type='DefaultSampler', shuffle=False),
                 collate_fn=dict(type='pseudo_collate'),
                 dataset=dict(type='H5PairedDataset', ann_file=None, test_mode=True, pipeline=[]))
test_cfg = dict(type='MultiTestLoop')
