# DANet for low-light enhancement: its own recipe (model + schedule bases) on pairs synthesised by
# `data_tools synth --task lowlight` (configs/_base_/tasks/lowlight.py, docs/tasks.md).
_base_ = [
    '../_base_/models/danet.py',
    '../_base_/tasks/lowlight.py',
    '../_base_/schedules/danet_step_1000e.py',
    '../_base_/default_runtime.py',
]
