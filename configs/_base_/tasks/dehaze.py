# Task dehaze: haze by the atmospheric scattering model over clean photographs.
# Training pairs synthesised over clean photographs (none can be downloaded here; docs/tasks.md):
#   python -m data_tools synth CLEAN_TRAIN data/dehaze_src --task dehaze --seed 0
#   python -m data_tools pack data/dehaze_src data/HazeTrain.h5 --val-fraction 0.05
#   python -m data_tools synth CLEAN_TEST data/dehaze_test_src --task dehaze --seed 1
#   python -m data_tools pack data/dehaze_test_src data/HazeTest.h5
# The degraded images sit in hazy/ beside clean/; pack stores the synthesis record.
task = dict(name='dehaze', degraded='hazy', degraded_folder='hazy', target='clean',
            synth='python -m data_tools synth CLEAN_DIR OUT_DIR --task dehaze --seed N')

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='H5PairedDataset', ann_file='data/HazeTrain.h5', split='train',
                 pipeline=[dict(type='PairedRandomCrop', crop_size=256),
                           dict(type='PairedFlipRot8')]))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='H5PairedDataset', ann_file='data/HazeTrain.h5', split='val',
                 testset='val', pipeline=[]))
val_evaluator = dict(type='Evaluator',
                     metrics=[dict(type='DerainMetric', metrics=['psnr_y', 'ssim_y'])])

# Paired synthetic test set: the full-reference metrics. Real hazy photos without ground truth
# are scored with tools/eval_folder.py --no-reference (NIQE).
test_dataloader = [
    dict(batch_size=1, num_workers=2, persistent_workers=False,
         sampler=dict(type='DefaultSampler', shuffle=False),
         collate_fn=dict(type='pseudo_collate'),
         dataset=dict(type='H5PairedDataset', ann_file='data/HazeTest.h5', testset='SynthHaze',
                      test_mode=True, pipeline=[])),
]
test_evaluator = [dict(type='Evaluator', metrics=[dict(type='DerainMetric')])]
test_cfg = dict(type='MultiTestLoop')
