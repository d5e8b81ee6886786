# PReNet trained with MSE instead of negative SSIM (the paper's alternative loss).
_base_ = ['./prenet_1xb18-100e_rain100h.py']
model = dict(losses=[dict(type='MSELoss', name='mse', outputs=[0])])
