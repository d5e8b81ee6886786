# PReNet (T = 6) for dehazing: its own recipe (model + schedule bases) on pairs
# synthesised by `data_tools synth --task dehaze` (configs/_base_/tasks/dehaze.py, docs/tasks.md).
_base_ = [
    '../_base_/models/prenet.py',
    '../_base_/tasks/dehaze.py',
    '../_base_/schedules/prenet_multistep_100e.py',
    '../_base_/default_runtime.py',
]
# PReNet's patches and batch (configs/_base_/datasets/prenet_rain100h.py).
train_dataloader = dict(batch_size=18,
                        dataset=dict(pipeline=[dict(type='PairedRandomCrop', crop_size=100)]))
