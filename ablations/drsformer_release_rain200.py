"""DRSformer's Rain200H column from its released weights (the file with MEFC), evaluate-only under
mprnet_matlab (= its evaluate_PSNR_SSIM.m). Rain200L's file has no MEFC, so it is evaluated from
its own config (docs/reproductions.md):
    python tools/convert_checkpoint.py --arch drsformer WEIGHTS/Rain200H.pth \
        work_dirs/drsformer_release/Rain200H.pth
then ``python -m ablations run drsformer_release_rain200``."""
base = 'configs/drsformer/drsformer_4xb4-2679e_rain200h.py'
mode = 'listed'
axes = {}
include = [{'model.generator.type': 'DRSformer',
            'checkpoint': 'work_dirs/drsformer_release/Rain200H.pth'}]
seeds = [0]
testsets = ['Rain200H']
stages = ['test']   # evaluate only
