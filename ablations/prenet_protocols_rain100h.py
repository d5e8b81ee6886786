"""What the evaluation protocol does to PReNet's README column on Rain100H: the four released
Rain100H models (evaluate-only cells) under ``mprnet_matlab`` and ``basicsr``; the
``prenet_matlab`` cells are ``prenet_readme_rain100h`` (docs/reproductions.md).

Convert the release first (once):
    python tools/convert_checkpoint.py --prenet-release ../shared/data/released_weights/PReNet \
        work_dirs/prenet_release
then ``python -m ablations run prenet_protocols_rain100h``.
"""
from ablations.prenet_release import readme_cells as _readme_cells

base = 'configs/prenet/prenet_1xb18-100e_rain100h.py'
mode = 'listed'
axes = {}
include = _readme_cells('Rain100H', protocols=('mprnet_matlab', 'basicsr'))
seeds = [0]
testsets = ['Rain100H']
stages = ['test']   # evaluate only
