# MPRNet for dehazing: its own recipe (model + schedule bases) on pairs synthesised by
# `data_tools synth --task dehaze` (configs/_base_/tasks/dehaze.py, docs/tasks.md).
_base_ = [
    '../_base_/models/mprnet.py',
    '../_base_/tasks/dehaze.py',
    '../_base_/schedules/mprnet_cosine_250e.py',
    '../_base_/default_runtime.py',
]
