"""The README demo's dehaze grid (ablations/demo.py): the demo DANet with and without its ALM on
haze synthesised over scikit-image's photographs, one seed, 2 runs; the derain grid's schedule
and stages (``ablations/demo_tiny.py``)."""
from ablations.demo_tiny import cfg_options, mode, stages  # noqa: F401

base = 'configs/danet/danet_demo_dehaze.py'
axes = {'model.generator.alm.type': [('w/o ALM', 'PlainALM')]}
axis_names = {'model.generator.alm.type': 'ALM'}
seeds = [0]
testsets = ['SynthHaze']
