# The optimiser and schedule of Restormer's and DRSformer's releases (their yml `train`): AdamW
# 3e-4 (betas 0.9/0.999, weight decay 1e-4), gradients clipped to norm 0.01 (use_grad_clip: the
# release's ImageCleanModel clips at 0.01), 300k iterations in two cycles of BasicSR's
# CosineAnnealingRestartCyclicLR: 3e-4 held for 92k iterations, then cosine 3e-4 -> 1e-6 over
# 208k. Here: no scheduler for the first cycle (constant lr) and MMEngine's CosineAnnealingLR by
# iteration from 92k to 300k. The platform's loops count epochs, so the method config sets
# max_epochs to the epochs that cover 300k iterations of its data (docs/reproductions.md).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=1e-4),
    clip_grad=dict(max_norm=0.01))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, T_max=208000, eta_min=1e-6, begin=92000,
         end=300000)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1409, val_interval=20)
val_cfg = dict(type='ValLoop')
