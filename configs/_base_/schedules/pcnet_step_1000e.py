# PCNet's released recipe: Adam 4e-4, StepLR every 60 epochs x0.8, 1000 epochs, validation every
# 5 epochs. (Its batch 32 of 128x128 patches is set by each method config on the task's loader.)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=4e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0))
param_scheduler = [dict(type='StepLR', by_epoch=True, step_size=60, gamma=0.8)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1000, val_interval=5)
val_cfg = dict(type='ValLoop')
