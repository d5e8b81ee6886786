# DANet's recipe (DANET_SPEC §3): Adam 2e-4, StepLR every 80 epochs x0.8, 1000 epochs,
# epoch-based (one random 256 crop per training image per epoch), validation every 5 epochs.
# MMEngine steps StepLR after each epoch, so the first decay falls one epoch earlier than in the
# released script (epoch 80 instead of 81, 1-based); immaterial over 1000 epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=2e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                   fused=True))  # one kernel for all tensors: 4x faster step on CPU, same math
param_scheduler = [dict(type='StepLR', by_epoch=True, step_size=80, gamma=0.8)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1000, val_interval=5)
val_cfg = dict(type='ValLoop')
