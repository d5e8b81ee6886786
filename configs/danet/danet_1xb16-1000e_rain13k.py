# DANet, the paper recipe: Rain13K, patch 256, batch 16, Adam 2e-4, StepLR(80, 0.8), 1000 epochs;
# tested on Rain100L, Rain100H, Test100, Test1200, Test2800.
_base_ = [
    '../_base_/models/danet.py',
    '../_base_/datasets/rain13k.py',
    '../_base_/datasets/derain_test.py',
    '../_base_/schedules/danet_step_1000e.py',
    '../_base_/default_runtime.py',
]
