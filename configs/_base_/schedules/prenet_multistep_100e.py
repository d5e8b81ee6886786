# PReNet's recipe: Adam 1e-3, learning rate x0.2 at epochs 30, 50 and 80, 100 epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[30, 50, 80], gamma=0.2)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=5)
val_cfg = dict(type='ValLoop')
