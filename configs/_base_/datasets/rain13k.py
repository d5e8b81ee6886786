# Rain13K training pairs packed with a held-out validation split of the TRAINING data:
#   python -m data_tools pack Datasets/train data/Rain13K.h5 --layout mprnet --val-fraction 0.01
# Override the file with --cfg-options train_dataloader.dataset.ann_file=PATH
# val_dataloader.dataset.ann_file=PATH (the same file: the split selects the images).
# Validating on a test set (the released code's Rain100L) is not done here; to reproduce it,
# point val_dataloader at that test file and set experiment_name to say so (recorded in env.json).
train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='H5PairedDataset',
        ann_file='data/Rain13K.h5',
        split='train',
        pipeline=[dict(type='PairedRandomCrop', crop_size=256), dict(type='PairedFlipRot8')]))

val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='H5PairedDataset', ann_file='data/Rain13K.h5', split='val',
                 testset='val', pipeline=[]))

val_evaluator = dict(type='Evaluator',
                     metrics=[dict(type='RestorationMetric', metrics=['psnr_y', 'ssim_y'])])
