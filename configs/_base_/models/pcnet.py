# PCNet (Jiang et al., TIP 2021; kuijiang94/PCNet): both outputs supervised as in train_PCNet.py,
#   0.3 (Char(B, gt) + 0.2 Char(R, input)) + 0.2 Edge(B, gt)
#   - 0.15 (SSIM(B, gt) + 0.2 SSIM(R, input)),
# where B is the restored image and R the re-synthesised degraded input.
model = dict(
    type='RestorationModel', generator=dict(type='PCNet'),
    losses=[dict(type='CharbonnierLoss', name='char', outputs=[0], loss_weight=0.3),
            dict(type='CharbonnierLoss', name='char_rain', outputs=[1], loss_weight=0.06,
                 target='input'),
            dict(type='EdgeLoss', name='edge', outputs=[0], loss_weight=0.2),
            dict(type='SSIMLoss', name='ssim', outputs=[0], loss_weight=0.15),
            dict(type='SSIMLoss', name='ssim_rain', outputs=[1], loss_weight=0.03,
                 target='input')],
    data_preprocessor=dict(type='RestorationDataPreprocessor'))
