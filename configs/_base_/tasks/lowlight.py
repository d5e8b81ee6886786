# Task lowlight: short exposure in linear space + Poisson-Gaussian noise over clean photos.
# Training pairs synthesised over clean photographs (none can be downloaded here; docs/tasks.md):
#   python -m data_tools synth CLEAN_TRAIN data/lowlight_src --task lowlight --seed 0
#   python -m data_tools pack data/lowlight_src data/LowLightTrain.h5 --val-fraction 0.05
#   python -m data_tools synth CLEAN_TEST data/lowlight_test_src --task lowlight --seed 1
#   python -m data_tools pack data/lowlight_test_src data/LowLightTest.h5
# The degraded images sit in low/ beside clean/; pack stores the synthesis record. Real low-light
# photos without ground truth are scored with tools/eval_folder.py --no-reference (NIQE).
_base_ = ['../datasets/synthetic_pairs.py']
task = dict(name='lowlight', degraded='low-light', degraded_folder='low', target='clean',
            synth='python -m data_tools synth CLEAN_DIR OUT_DIR --task lowlight --seed N')
train_dataloader = dict(dataset=dict(ann_file='data/LowLightTrain.h5'))
val_dataloader = dict(dataset=dict(ann_file='data/LowLightTrain.h5'))
# Paired synthetic test sets (index: name, file): full-reference metrics.
test_dataloader = [dict(_base_._test_set, dataset=dict(_base_._test_set.dataset, ann_file=path,
                                                       testset=name))
                   for name, path in [('SynthLowLight', 'data/LowLightTest.h5')]]
test_evaluator = [dict(type='Evaluator', metrics=[dict(type='RestorationMetric')])
                  for _ in test_dataloader]
