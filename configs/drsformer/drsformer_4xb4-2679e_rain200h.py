# DRSformer, its released recipe (Options/Deraining.yml): Rain200H, 4 GPUs, per GPU batch 4 of
# 128x128 crops (mini_batch_sizes [4]: the release loads 8 per GPU and trains on 4 of them, the
# same draw as loading 4), flips/rotations, AdamW 3e-4, clip 0.01, constant then cosine to 1e-6,
# L1, 300k iterations; with MEFC (the release's DRSformer_arch.py, used for Rain200H, DID and
# DDN). Epochs: about 1,782 training pairs / 4 GPUs / batch 4 = 112 iterations per epoch, so
# 2679 epochs ~ 300k iterations (docs/reproductions.md).
_base_ = [
    '../_base_/models/drsformer.py',
    '../_base_/datasets/rain200h.py',
    '../_base_/datasets/rain200_test.py',
    '../_base_/schedules/restormer_adamw_300k.py',
    '../_base_/default_runtime.py',
]
train_cfg = dict(max_epochs=2679)
