# PCNet (Jiang et al., TIP 2021; kuijiang94/PCNet), its released recipe: both outputs supervised
# as in train_PCNet.py,
#   0.3 (Char(B, gt) + 0.2 Char(R, rainy)) + 0.2 Edge(B, gt)
#   - 0.15 (SSIM(B, gt) + 0.2 SSIM(R, rainy)),
# where B is the background and R the re-synthesised rainy image; Adam 4e-4, StepLR every 60
# epochs x0.8, batch 32, 128x128 patches, 1000 epochs (the DANet data and test sets).
_base_ = [
    '../_base_/datasets/rain13k.py',
    '../_base_/datasets/derain_test.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='DerainModel', generator=dict(type='PCNet'),
    losses=[dict(type='CharbonnierLoss', name='char', outputs=[0], loss_weight=0.3),
            dict(type='CharbonnierLoss', name='char_rain', outputs=[1], loss_weight=0.06,
                 target='input'),
            dict(type='EdgeLoss', name='edge', outputs=[0], loss_weight=0.2),
            dict(type='SSIMLoss', name='ssim', outputs=[0], loss_weight=0.15),
            dict(type='SSIMLoss', name='ssim_rain', outputs=[1], loss_weight=0.03,
                 target='input')],
    association_constraint=None,
    data_preprocessor=dict(type='DerainDataPreprocessor'))
train_dataloader = dict(
    batch_size=32,
    dataset=dict(pipeline=[dict(type='PairedRandomCrop', crop_size=128),
                           dict(type='PairedFlipRot8')]))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=4e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0))
param_scheduler = [dict(type='StepLR', by_epoch=True, step_size=60, gamma=0.8)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1000, val_interval=5)
val_cfg = dict(type='ValLoop')
