# DRSformer as released (Options/Deraining.yml network_g, DRSformer_arch.py): 33,655,424
# parameters with MEFC; mefc=dict(type='NoMEFC') is DRSformer_arch_200L+SPA.py (32,610,304).
# L1 loss.
# Ablations: model.generator.attention (TopKSparseAttention keep=..., or dense MDTA) / ffn (MSFN,
# GDFN, ConvFFN) / mefc (danet/models/drsformer.py).
model = dict(type='RestorationModel',
             generator=dict(type='DRSformer', dim=48, num_blocks=[4, 6, 6, 8], heads=[1, 2, 4, 8],
                            ffn_expansion_factor=2.66, bias=False, norm='WithBias',
                            # keep: its default, the release's 1/2, 2/3, 3/4, 4/5
                            attention=dict(type='TopKSparseAttention'),
                            ffn=dict(type='MSFN'), mefc=dict(type='MEFC', steps=4)),
             losses=[dict(type='L1Loss', name='l1', outputs=[0], loss_weight=1.0)],
             association_constraint=None,
             data_preprocessor=dict(type='RestorationDataPreprocessor'))
