# PCNet for dehazing: its own recipe (model + schedule bases) on pairs synthesised by
# `data_tools synth --task dehaze` (configs/_base_/tasks/dehaze.py, docs/tasks.md).
_base_ = [
    '../_base_/models/pcnet.py',
    '../_base_/tasks/dehaze.py',
    '../_base_/schedules/pcnet_step_1000e.py',
    '../_base_/default_runtime.py',
]
# PCNet's patches and batch (configs/pcnet/pcnet_1xb32-1000e_rain13k.py).
train_dataloader = dict(
    batch_size=32,
    dataset=dict(pipeline=[dict(type='PairedRandomCrop', crop_size=128),
                           dict(type='PairedFlipRot8')]))
