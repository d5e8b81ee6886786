"""The README demo's derain grid (ablations/demo.py): DANet's component study on the narrow demo
DANet, trained briefly on rain synthesised over scikit-image's photographs, one seed, 4 runs
(``ablations/demo_dehaze.py`` and ``demo_lowlight.py`` reuse its schedule and stages).

Each run trains, then tests on the held-out photographs (``SynthTest``) with ``--save-images``
for the report's comparison figure. ``tools/test.py`` also writes ``complexity.json`` (the
generator at 3×256×256), so the default separate ``macs`` stage, ~20 s of imports per
run on a loaded 2-core machine, is left out.
"""
base = 'configs/danet/danet_demo_1xb4-40e_synthetic-rain.py'
mode = 'one_at_a_time'
axes = {
    'model.generator.alm.type': [('w/o ALM', 'PlainALM')],
    'model.losses.3.type': [('w/o association constraint',
                                           'NoAssociationConstraint')],
    'model.generator.alm.mask.type': [('parameter-free mask', 'RainMagnitudeMask')],
}
base_labels = {'model.generator.alm.mask.type': 'learned mask'}   # the base's LearnedMask
axis_names = {'model.generator.alm.type': 'ALM',
              'model.losses.3.type': 'Assoc. constraint',
              'model.generator.alm.mask.type': 'Mask'}
seeds = [0]
testsets = ['SynthTest']
cfg_options = {'train_cfg.max_epochs': 40, 'train_cfg.val_interval': 10,
               'param_scheduler.0.T_max': 40, 'default_hooks.checkpoint.interval': 40}
stages = ['train', 'test_images']   # no macs stage: see the docstring
