# DANet for dehazing: the paper's recipe (patch 256, batch 16, Adam 2e-4, StepLR(80, 0.8),
# 1000 epochs) on pairs synthesised by `data_tools synth --task dehaze` (configs/_base_/tasks/
# dehaze.py, docs/tasks.md), as the authors retrained the same network per task.
_base_ = [
    '../_base_/models/danet.py',
    '../_base_/tasks/dehaze.py',
    '../_base_/schedules/danet_step_1000e.py',
    '../_base_/default_runtime.py',
]
