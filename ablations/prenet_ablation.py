"""PReNet's ablation weights on Rain100H (``test_Ablation.sh``, ``statistic_Ablation.m``):
T = 5/6/7 with a ConvLSTM, a ConvGRU, the previous estimate alone as stage input (PReNet_x,
still with its ConvLSTM: 3 input channels instead of 6), the recursive SSIM loss, and PReNet
itself; evaluate-only cells under prenet_matlab. The ablation classes (PReNet_LSTM,
PReNet_GRU, PReNet_x) predict the image directly, PReNet the residual to the input.

Convert the release first (once):
    python tools/convert_checkpoint.py --prenet-release ../shared/data/released_weights/PReNet \
        work_dirs/prenet_release
then ``python -m ablations run prenet_ablation`` and ``python -m analysis report``.
"""
_W = 'work_dirs/prenet_release/'
base = 'configs/prenet/prenet_1xb18-100e_rain100h.py'
mode = 'listed'
axes = {}
include = [
    {'model.generator.type': 'PReNet', 'model.generator.stages': ('T=6', 6),
     'checkpoint': _W + 'Rain100H_PReNet6.pth'},
    {'model.generator.type': 'PReNet_LSTM', 'model.generator.stages': ('T=5', 5),
     'checkpoint': _W + 'Ablation_PReNet5_LSTM.pth'},
    {'model.generator.type': 'PReNet_LSTM', 'model.generator.stages': ('T=6', 6),
     'checkpoint': _W + 'Ablation_PReNet6_LSTM.pth'},
    {'model.generator.type': 'PReNet_LSTM', 'model.generator.stages': ('T=7', 7),
     'checkpoint': _W + 'Ablation_PReNet7_LSTM.pth'},
    {'model.generator.type': 'PReNet_GRU', 'model.generator.stages': ('T=6', 6),
     'checkpoint': _W + 'Ablation_PReNet6_GRU.pth'},
    {'model.generator.type': 'PReNet_x', 'model.generator.stages': ('T=6', 6),
     'checkpoint': _W + 'Ablation_PReNet6_x.pth'},
    {'model.generator.type': ('PReNet_LSTM RecSSIM', 'PReNet_LSTM'),
     'model.generator.stages': ('T=6', 6), 'checkpoint': _W + 'Ablation_PReNet6_RecSSIM.pth'},
]
seeds = [0]
testsets = ['Rain100H']
stages = ['test']   # evaluate only
