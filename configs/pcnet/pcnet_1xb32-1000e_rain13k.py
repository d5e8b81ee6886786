# PCNet (Jiang et al., TIP 2021; kuijiang94/PCNet), its released recipe (losses:
# configs/_base_/models/pcnet.py): Adam 4e-4, StepLR every 60 epochs x0.8, batch 32, 128x128
# patches, 1000 epochs (the DANet data and test sets).
_base_ = [
    '../_base_/models/pcnet.py',
    '../_base_/datasets/rain13k.py',
    '../_base_/datasets/derain_test.py',
    '../_base_/schedules/pcnet_step_1000e.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(
    batch_size=32,
    dataset=dict(pipeline=[dict(type='PairedRandomCrop', crop_size=128),
                           dict(type='PairedFlipRot8')]))
