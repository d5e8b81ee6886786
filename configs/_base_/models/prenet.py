# PReNet (Ren et al., CVPR 2019), T = 6 stages, trained with negative SSIM on the final output
# (the released train_PReNet.py; the paper's MSE alternative: configs/prenet/prenet_mse_*.py).
model = dict(type='RestorationModel', generator=dict(type='PReNet', stages=6),
             losses=[dict(type='SSIMLoss', name='ssim', outputs=[0], loss_weight=1.0)],
             data_preprocessor=dict(type='RestorationDataPreprocessor'))
