"""DANet's components, one at a time from the full model (the paper's ablation), 3 seeds."""
base = 'configs/danet/danet_1xb16-1000e_rain13k.py'
mode = 'one_at_a_time'
axes = {
    'model.generator.alm.type': [('w/o ALM', 'PlainALM')],
    'model.losses.3.type': [('w/o association constraint',
                                           'NoAssociationConstraint')],
    'model.generator.alm.mask.type': [('parameter-free mask', 'RainMagnitudeMask')],
    'model.generator.reconstruction.type': [('bilinear SR', 'BilinearReconstruction'),
                                            ('transposed-conv SR', 'TransposedConvReconstruction')],
    'model.generator.reconstruction.skip.type': [('SR w/o background skip', 'NoBackgroundSkip')],
    'model.generator.sampling.type': [('w/o sampling space', 'NoSampling')],
}
# The base's own choices on the multi-choice axes (LearnedMask, PixelShuffleReconstruction).
base_labels = {'model.generator.alm.mask.type': 'learned mask',
               'model.generator.reconstruction.type': 'pixel-shuffle SR'}
axis_names = {'model.generator.alm.type': 'ALM',
              'model.losses.3.type': 'Assoc. constraint',
              'model.generator.alm.mask.type': 'Mask',
              'model.generator.reconstruction.type': 'SR',
              'model.generator.reconstruction.skip.type': 'Background skip',
              'model.generator.sampling.type': 'Sampling space'}
seeds = [0, 1, 2]
testsets = ['Rain100L', 'Rain100H', 'Test100', 'Test1200', 'Test2800']
macs_shape = [3, 256, 256]
