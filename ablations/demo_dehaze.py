"""The README demo's dehaze grid (ablations/demo.py): the demo DANet with and without its ALM on
haze synthesised over scikit-image's photographs, one seed, 2 runs; the derain grid's schedule
(``ablations/demo_tiny.py``) and stages."""
from ablations.demo_tiny import cfg_options  # noqa: F401  (the derain grid's schedule)

base = 'configs/danet/danet_demo_1xb4-40e_synthetic-haze.py'
mode = 'one_at_a_time'
axes = {'model.generator.alm.type': [('w/o ALM', 'PlainALM')]}
axis_names = {'model.generator.alm.type': 'ALM'}
seeds = [0]
testsets = ['SynthHaze']
stages = ['train', 'test_images']   # no macs stage: see ablations/demo_tiny.py
