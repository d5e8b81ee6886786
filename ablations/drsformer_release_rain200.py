"""DRSformer's Rain200H column from its released weights (the file with MEFC), evaluate-only under
mprnet_matlab (= its evaluate_PSNR_SSIM.m). Rain200L's file has no MEFC, so it is evaluated from
its own config and grid, drsformer_release_rain200l (docs/reproductions.md):
    python tools/convert_checkpoint.py --arch drsformer WEIGHTS/Rain200H.pth DIR/Rain200H.pth
then ``python -m ablations run drsformer_release_rain200 --weights-dir DIR`` (default DIR:
work_dirs/drsformer_release). The published values sit in analysis/external_results.yaml
(``DRSformer (README)``)."""
from ablations.spec import weights_dir as _weights_dir

base = 'configs/drsformer/drsformer_4xb4-2679e_rain200h.py'
mode = 'listed'
axes = {}
include = [{'model.generator.type': 'DRSformer',
            'checkpoint': f'{_weights_dir("work_dirs/drsformer_release")}/Rain200H.pth'}]
seeds = [0]
testsets = ['Rain200H']
stages = ['test']   # evaluate only
