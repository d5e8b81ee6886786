"""PReNet's README table, Rain100L column: the authors' released Rain100L weights of PRN, PReNet,
PRN_r and PReNet_r evaluated (evaluate-only cells: no training) under prenet_matlab.

Convert the release first (once):
    python tools/convert_checkpoint.py --prenet-release ../shared/data/released_weights/PReNet \
        work_dirs/prenet_release
then ``python -m ablations run prenet_readme_rain100l`` and ``python -m analysis report``
(docs/reproductions.md). ``tools/test.py`` also writes complexity.json, so there is no macs
stage.
"""
from ablations.prenet_release import readme_cells as _readme_cells

base = 'configs/prenet/prenet_1xb18-100e_rain100h.py'
mode = 'listed'
axes = {}
include = _readme_cells('Rain100L')
seeds = [0]
testsets = ['Rain100L']
stages = ['test']   # evaluate only
