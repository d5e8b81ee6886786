# Task lowlight: short exposure in linear space + Poisson-Gaussian noise over clean photos.
# Training pairs synthesised over clean photographs (none can be downloaded here; docs/tasks.md):
#   python -m data_tools synth CLEAN_TRAIN data/lowlight_src --task lowlight --seed 0
#   python -m data_tools pack data/lowlight_src data/LowLightTrain.h5 --val-fraction 0.05
#   python -m data_tools synth CLEAN_TEST data/lowlight_test_src --task lowlight --seed 1
#   python -m data_tools pack data/lowlight_test_src data/LowLightTest.h5
# The degraded images sit in low/ beside clean/; pack stores the synthesis record.
task = dict(name='lowlight', degraded='low-light', degraded_folder='low', target='clean',
            synth='python -m data_tools synth CLEAN_DIR OUT_DIR --task lowlight --seed N')

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='H5PairedDataset', ann_file='data/LowLightTrain.h5', split='train',
                 pipeline=[dict(type='PairedRandomCrop', crop_size=256),
                           dict(type='PairedFlipRot8')]))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='H5PairedDataset', ann_file='data/LowLightTrain.h5', split='val',
                 testset='val', pipeline=[]))
val_evaluator = dict(type='Evaluator',
                     metrics=[dict(type='DerainMetric', metrics=['psnr_y', 'ssim_y'])])

# Paired synthetic test set: the full-reference metrics. Real low-light photos without ground truth
# are scored with tools/eval_folder.py --no-reference (NIQE).
test_dataloader = [
    dict(batch_size=1, num_workers=2, persistent_workers=False,
         sampler=dict(type='DefaultSampler', shuffle=False),
         collate_fn=dict(type='pseudo_collate'),
         dataset=dict(type='H5PairedDataset', ann_file='data/LowLightTest.h5',
                      testset='SynthLowLight', test_mode=True, pipeline=[])),
]
test_evaluator = [dict(type='Evaluator', metrics=[dict(type='DerainMetric')])]
test_cfg = dict(type='MultiTestLoop')
