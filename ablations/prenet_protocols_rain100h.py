"""What the evaluation protocol does to PReNet's README column on Rain100H: the four released
Rain100H models (evaluate-only cells) under ``mprnet_matlab`` and ``basicsr``; the
``prenet_matlab`` cells are ``prenet_readme_rain100h`` (docs/reproductions.md).

Convert the release first (once):
    python tools/convert_checkpoint.py --prenet-release ../shared/data/released_weights/PReNet \
        work_dirs/prenet_release
then ``python -m ablations run prenet_protocols_rain100h``.
"""
_MODELS = [('PRN_r', 'PRN6_r'), ('PReNet_r', 'PReNet6_r'), ('PRN', 'PRN6'), ('PReNet', 'PReNet6')]
base = 'configs/prenet/prenet_1xb18-100e_rain100h.py'
mode = 'listed'
axes = {}
include = [{'model.generator.type': model,
            'checkpoint': f'work_dirs/prenet_release/Rain100H_{weights}.pth',
            'test_evaluator.1.metrics.0.protocol': protocol}
           for model, weights in _MODELS for protocol in ('mprnet_matlab', 'basicsr')]
seeds = [0]
testsets = ['Rain100H']
stages = ['test']   # evaluate only
