# PReNet_GRU (PReNet paper, T = 6), the released recipe on RainTrainH; tested on Rain100L/Rain100H
# under prenet_matlab. Released weights: docs/reproductions.md.
_base_ = [
    '../_base_/models/prenet.py',
    '../_base_/datasets/prenet_rain100h.py',
    '../_base_/schedules/prenet_multistep_100e.py',
    '../_base_/default_runtime.py',
]
model = dict(generator=dict(type='PReNet_GRU'))
