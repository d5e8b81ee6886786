"""Restormer's Table 1 (Rain13K test sets) from its released deraining weights, evaluate-only
under mprnet_matlab (= its evaluate_PSNR_SSIM.m). Convert the download first:
    python tools/convert_checkpoint.py --arch restormer WEIGHTS/deraining.pth DIR/deraining.pth
then ``python -m ablations run restormer_release_rain13k --weights-dir DIR`` (default DIR:
work_dirs/restormer_release; docs/reproductions.md)."""
from ablations.spec import weights_dir as _weights_dir

base = 'configs/restormer/restormer_8xb8-1409e_rain13k.py'
mode = 'listed'
axes = {}
include = [{'model.generator.type': 'Restormer',
            'checkpoint': f'{_weights_dir("work_dirs/restormer_release")}/deraining.pth'}]
seeds = [0]
testsets = ['Rain100L', 'Rain100H', 'Test100', 'Test1200', 'Test2800']
stages = ['test']   # evaluate only
