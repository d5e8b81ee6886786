"""Restormer's components, one at a time from the full model (the paper's Table 7 ablations as
config entries), 1 seed. Plain spatial self-attention (``SpatialSelfAttention``) is a config entry
too but not a cell: at the recipe's patches its H·W × H·W attention does not fit (384×384 at level
1: 147,456² scores per head); run it at small patches with --cfg-options."""
base = 'configs/restormer/restormer_8xb8-1409e_rain13k.py'
mode = 'one_at_a_time'
axes = {
    'model.generator.attention.dconv': [('MTA (no depth-wise conv)', False)],
    'model.generator.ffn.type': [('plain FFN', 'ConvFFN')],
    'model.generator.num_refinement_blocks': [('w/o refinement', 0)],
}
base_labels = {'model.generator.attention.dconv': 'MDTA', 'model.generator.ffn.type': 'GDFN',
               'model.generator.num_refinement_blocks': 'refinement (4 blocks)'}
axis_names = {'model.generator.attention.dconv': 'Attention', 'model.generator.ffn.type': 'FFN',
              'model.generator.num_refinement_blocks': 'Refinement'}
seeds = [0]
testsets = ['Rain100L', 'Rain100H', 'Test100', 'Test1200', 'Test2800']
macs_shape = [3, 256, 256]
