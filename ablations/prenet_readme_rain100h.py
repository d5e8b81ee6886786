"""PReNet's README table, Rain100H column: the authors' released Rain100H weights of PRN, PReNet,
PRN_r and PReNet_r evaluated (evaluate-only cells: no training) under prenet_matlab.

Convert the release first (once):
    python tools/convert_checkpoint.py --prenet-release ../shared/data/released_weights/PReNet \
        work_dirs/prenet_release
then ``python -m ablations run prenet_readme_rain100h`` and ``python -m analysis report``
(docs/reproductions.md). ``tools/test.py`` also writes complexity.json, so there is no macs
stage.
"""
base = 'configs/prenet/prenet_1xb18-100e_rain100h.py'
mode = 'listed'
axes = {}
include = [
    {'model.generator.type': 'PRN',
     'checkpoint': 'work_dirs/prenet_release/Rain100H_PRN6.pth'},
    {'model.generator.type': 'PReNet',
     'checkpoint': 'work_dirs/prenet_release/Rain100H_PReNet6.pth'},
    {'model.generator.type': 'PRN_r',
     'checkpoint': 'work_dirs/prenet_release/Rain100H_PRN6_r.pth'},
    {'model.generator.type': 'PReNet_r',
     'checkpoint': 'work_dirs/prenet_release/Rain100H_PReNet6_r.pth'},
]
seeds = [0]
testsets = ['Rain100H']
stages = ['test']   # evaluate only
