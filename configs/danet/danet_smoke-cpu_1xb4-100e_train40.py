# A narrow DANet that learns on CPU in minutes: the real training pairs of Train40 (packed with
# a validation split, without the 2 backgrounds that are Rain100 test images), tested on Rain100L
# and Rain100H. docs/training.md gives the commands and the measured gains.
#   python -m data_tools pack ../shared/data/Rain100L data/Rain100L.h5  (and Rain100H)
#   python -m data_tools pack ../shared/data/Train40 data/Train40.h5 --val-fraction 0.1 \
#       --exclude-overlap-with data/Rain100L.h5 data/Rain100H.h5
_base_ = ['./danet_1xb16-1000e_rain13k.py']

model = dict(generator=dict(n_feat=16, num_cab=2))

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(ann_file='data/Train40.h5',
                 pipeline=[dict(type='PairedRandomCrop', crop_size=96),
                           dict(type='PairedFlipRot8'),
                           # Train40's rain is heavy (it brightens Y by 14 levels on average,
                           # Rain100L's by 5): rescaling the rain teaches lighter corrections.
                           dict(type='PairedRainStrength', low=0.1, high=1.0, prob=0.8)]))
# The held-out Train40 images (up to 3072x2048) validated on 96x96 centre crops, the paper's VAL_PS.
val_dataloader = dict(num_workers=0, dataset=dict(ann_file='data/Train40.h5',
                                                  pipeline=[dict(type='PairedCenterCrop',
                                                                 crop_size=96)]))

test_dataloader = [
    dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
         collate_fn=dict(type='pseudo_collate'),
         dataset=dict(type='H5PairedDataset', ann_file='data/Rain100L.h5', testset='Rain100L',
                      test_mode=True, pipeline=[])),
    dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
         collate_fn=dict(type='pseudo_collate'),
         dataset=dict(type='H5PairedDataset', ann_file='data/Rain100H.h5', testset='Rain100H',
                      test_mode=True, pipeline=[])),
]
# LPIPS is left out for speed.
test_evaluator = [
    dict(type='Evaluator', metrics=[dict(type='RestorationMetric',
                                         metrics=['psnr_y', 'ssim_y', 'psnr_rgb', 'ssim_rgb'])]),
    dict(type='Evaluator', metrics=[dict(type='RestorationMetric',
                                         metrics=['psnr_y', 'ssim_y', 'psnr_rgb', 'ssim_rgb'])]),
]

# A tiny net learns fast at a high lr: Adam 2e-3, cosine to 1e-5 over train_cfg.max_epochs (no
# T_max: MMEngine ends the schedule at max_epochs, so shortening a run keeps the full decay).
# 100 epochs = 900 steps of 4 x 96x96 crops, about 3 min on 2 CPU cores with one torch thread.
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, eta_min=1e-5)]
train_cfg = dict(max_epochs=100, val_interval=25)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=25, max_keep_ckpts=2))
