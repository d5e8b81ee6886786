# Restormer as released for deraining (Deraining_Restormer.yml network_g): 26,126,644 parameters,
# L1 loss (pixel_opt L1Loss, weight 1). Ablations: model.generator.attention / ffn /
# num_refinement_blocks (danet/models/restormer.py).
model = dict(type='RestorationModel',
             generator=dict(type='Restormer', dim=48, num_blocks=[4, 6, 6, 8],
                            num_refinement_blocks=4, heads=[1, 2, 4, 8],
                            ffn_expansion_factor=2.66, bias=False, norm='WithBias',
                            attention=dict(type='MDTA', dconv=True), ffn=dict(type='GDFN')),
             losses=[dict(type='L1Loss', name='l1', outputs=[0], loss_weight=1.0)],
             association_constraint=None,
             data_preprocessor=dict(type='RestorationDataPreprocessor'))
