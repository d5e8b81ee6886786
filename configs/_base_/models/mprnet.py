model = dict(type='RestorationModel', generator=dict(type='MPRNet'),
             losses=[dict(type='CharbonnierLoss', name='char', outputs=[0, 1, 2], loss_weight=1.0),
                     dict(type='EdgeLoss', name='edge', outputs=[0, 1, 2], loss_weight=0.05)],
             data_preprocessor=dict(type='RestorationDataPreprocessor'))
