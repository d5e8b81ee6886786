# The demo's dehaze grid (ablations/demo_dehaze.py): the demo DANet and schedule
# (danet_demo_1xb4-40e_synthetic-rain.py) on haze synthesised over the same photographs
# (ablations/demo.py).
_base_ = ['./danet_demo_1xb4-40e_synthetic-rain.py']
task = dict(name='dehaze', degraded='hazy', degraded_folder='hazy', target='clean',
            synth='python -m data_tools synth CLEAN_DIR OUT_DIR --task dehaze --seed N')
train_dataloader = dict(dataset=dict(ann_file='work_dirs/demo/data/dehaze/trainval.h5'))
val_dataloader = dict(dataset=dict(ann_file='work_dirs/demo/data/dehaze/trainval.h5'))
test_dataloader = [dict(_base_.test_dataloader[0],
                        dataset=dict(_base_.test_dataloader[0].dataset, testset='SynthHaze',
                                     ann_file='work_dirs/demo/data/dehaze/test.h5'))]
