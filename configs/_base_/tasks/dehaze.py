# Task dehaze: haze by the atmospheric scattering model over clean photographs.
# Training pairs synthesised over clean photographs (none can be downloaded here; docs/tasks.md):
#   python -m data_tools synth CLEAN_TRAIN data/dehaze_src --task dehaze --seed 0
#   python -m data_tools pack data/dehaze_src data/HazeTrain.h5 --val-fraction 0.05
#   python -m data_tools synth CLEAN_TEST data/dehaze_test_src --task dehaze --seed 1
#   python -m data_tools pack data/dehaze_test_src data/HazeTest.h5
# The degraded images sit in hazy/ beside clean/; pack stores the synthesis record. Real hazy
# photos without ground truth are scored with tools/eval_folder.py --no-reference (NIQE).
_base_ = ['../datasets/synthetic_pairs.py']
task = dict(name='dehaze', degraded='hazy', degraded_folder='hazy', target='clean',
            synth='python -m data_tools synth CLEAN_DIR OUT_DIR --task dehaze --seed N')
train_dataloader = dict(dataset=dict(ann_file='data/HazeTrain.h5'))
val_dataloader = dict(dataset=dict(ann_file='data/HazeTrain.h5'))
# Paired synthetic test sets (index: name, file): full-reference metrics.
test_dataloader = [dict(_base_._test_set, dataset=dict(_base_._test_set.dataset, ann_file=path,
                                                       testset=name))
                   for name, path in [('SynthHaze', 'data/HazeTest.h5')]]
test_evaluator = [dict(type='Evaluator', metrics=[dict(type='RestorationMetric')])
                  for _ in test_dataloader]
