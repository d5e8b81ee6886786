"""DRSformer's components, one at a time from the full model on Rain200H (the paper's ablations
as config entries: dense vs top-k attention and its k fractions, MSFN vs plain/gated FFN, MEFC),
1 seed."""
base = 'configs/drsformer/drsformer_4xb4-2679e_rain200h.py'
mode = 'one_at_a_time'
axes = {
    'model.generator.attention': [('dense attention', dict(type='MDTA')),
                                  ('top-k, k = C/2 only',
                                   dict(type='TopKSparseAttention', keep=[(1, 2)]))],
    'model.generator.ffn.type': [('plain FFN', 'ConvFFN'), ('GDFN', 'GDFN')],
    'model.generator.mefc.type': [('w/o MEFC', 'NoMEFC')],
}
base_labels = {'model.generator.attention': 'top-k (1/2, 2/3, 3/4, 4/5)',
               'model.generator.ffn.type': 'MSFN', 'model.generator.mefc.type': 'MEFC'}
axis_names = {'model.generator.attention': 'Attention', 'model.generator.ffn.type': 'FFN',
              'model.generator.mefc.type': 'MEFC'}
seeds = [0]
testsets = ['Rain200H']
macs_shape = [3, 256, 256]
