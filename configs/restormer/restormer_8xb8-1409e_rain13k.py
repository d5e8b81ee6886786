# Restormer, its released deraining recipe (Deraining/Options/Deraining_Restormer.yml): Rain13K,
# 8 GPUs, progressive learning -- per GPU, patch 128/160/192/256/320/384 with batch 8/5/4/2/1/1
# from iteration 0/92k/156k/204k/240k/276k (the loader delivers 8 crops of 384 per GPU, each
# stage takes its batch and patch from them, as the release does) -- AdamW 3e-4, clip 0.01,
# constant then cosine to 1e-6, L1, 300k iterations. Tested on the five Rain13K test sets.
# Epochs: about 13,575 training pairs / 8 GPUs / batch 8 = 213 iterations per epoch, so 1409
# epochs ~ 300k iterations; on other GPU counts set train_cfg.max_epochs to
# ceil(300000 / iterations per epoch) (docs/reproductions.md).
_base_ = [
    '../_base_/models/restormer.py',
    '../_base_/datasets/rain13k.py',
    '../_base_/datasets/derain_test.py',
    '../_base_/schedules/restormer_adamw_300k.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(
    batch_size=8,
    dataset=dict(pipeline=[dict(type='PairedRandomCrop', crop_size=384),
                           dict(type='PairedFlipRot8')]))
train_cfg = dict(
    type='ProgressiveTrainLoop', max_epochs=1409, val_interval=20,
    stages=[dict(begin_iter=0, patch=128, batch=8), dict(begin_iter=92000, patch=160, batch=5),
            dict(begin_iter=156000, patch=192, batch=4),
            dict(begin_iter=204000, patch=256, batch=2),
            dict(begin_iter=240000, patch=320, batch=1),
            dict(begin_iter=276000, patch=384, batch=1)])
