"""DRSformer's Rain200L column from its released Rain200L weights (the file without MEFC, built by
the no-MEFC config), evaluate-only under mprnet_matlab (= its evaluate_PSNR_SSIM.m):
    python tools/convert_checkpoint.py \
        --config configs/drsformer/drsformer_no-mefc_4xb4-2679e_rain200l.py \
        WEIGHTS/Rain200L.pth DIR/Rain200L.pth
then ``python -m ablations run drsformer_release_rain200l --weights-dir DIR`` (default DIR:
work_dirs/drsformer_release; docs/reproductions.md)."""
from ablations.spec import weights_dir as _weights_dir

base = 'configs/drsformer/drsformer_no-mefc_4xb4-2679e_rain200l.py'
mode = 'listed'
axes = {}
include = [{'model.generator.type': 'DRSformer',
            'checkpoint': f'{_weights_dir("work_dirs/drsformer_release")}/Rain200L.pth'}]
seeds = [0]
testsets = ['Rain200L']
stages = ['test']   # evaluate only
