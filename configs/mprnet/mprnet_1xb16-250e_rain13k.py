# MPRNet, its released deraining recipe: Rain13K, patch 256, batch 16, Adam 2e-4, 3-epoch
# warm-up + cosine to 1e-6, 250 epochs; tested on the five deraining test sets.
_base_ = [
    '../_base_/models/mprnet.py',
    '../_base_/datasets/rain13k.py',
    '../_base_/datasets/derain_test.py',
    '../_base_/schedules/mprnet_cosine_250e.py',
    '../_base_/default_runtime.py',
]
