# DANet for dehazing: its own recipe (model + schedule bases) on pairs synthesised by
# `data_tools synth --task dehaze` (configs/_base_/tasks/dehaze.py, docs/tasks.md).
_base_ = [
    '../_base_/models/danet.py',
    '../_base_/tasks/dehaze.py',
    '../_base_/schedules/danet_step_1000e.py',
    '../_base_/default_runtime.py',
]
