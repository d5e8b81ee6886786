# The demo's low-light grid (ablations/demo_lowlight.py): the demo DANet and schedule
# (danet_demo_1xb4-40e_synthetic-rain.py) on low light synthesised over the same photographs
# (ablations/demo.py).
_base_ = ['./danet_demo_1xb4-40e_synthetic-rain.py']
task = dict(name='lowlight', degraded='low-light', degraded_folder='low', target='clean',
            synth='python -m data_tools synth CLEAN_DIR OUT_DIR --task lowlight --seed N')
train_dataloader = dict(dataset=dict(ann_file='work_dirs/demo/data/lowlight/trainval.h5'))
val_dataloader = dict(dataset=dict(ann_file='work_dirs/demo/data/lowlight/trainval.h5'))
test_dataloader = [dict(_base_.test_dataloader[0],
                        dataset=dict(_base_.test_dataloader[0].dataset, testset='SynthLowLight',
                                     ann_file='work_dirs/demo/data/lowlight/test.h5'))]
