# Rain200H training pairs (DRSformer's Datasets/train/Rain200H, input/ and target/ folders)
# packed with a held-out validation split of the TRAINING data:
#   python -m data_tools pack Datasets/train/Rain200H data/Rain200H.h5 --layout mprnet \
#       --val-fraction 0.01
# Rain200L: the same with Rain200L (override train/val ann_file). The release validates on the
# Rain200H test set instead; to reproduce that, point val_dataloader at that test file.
train_dataloader = dict(
    batch_size=4,
    num_workers=8,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='H5PairedDataset',
        ann_file='data/Rain200H.h5',
        split='train',
        pipeline=[dict(type='PairedRandomCrop', crop_size=128), dict(type='PairedFlipRot8')]))

val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='H5PairedDataset', ann_file='data/Rain200H.h5', split='val',
                 testset='val', pipeline=[]))

val_evaluator = dict(type='Evaluator',
                     metrics=[dict(type='RestorationMetric', metrics=['psnr_y', 'ssim_y'])])
