# PReNet for real rainy photos: the released real/PReNet1.pth and PReNet2.pth (generator.py's
# Generator_lstm, 4 stages: the ConvLSTM after the ResBlocks, image predicted directly).
#   python tools/convert_checkpoint.py --arch prenet_real \
#       ../shared/data/released_weights/PReNet/real/PReNet1.pth work_dirs/prenet_real1.pth
#   python tools/derain.py configs/prenet/prenet_real_1xb18-100e_rain100h.py \
#       work_dirs/prenet_real1.pth ../shared/data/RealRain_SAPNet/rainy work_dirs/real_prenet1
_base_ = ['./prenet_1xb18-100e_rain100h.py']
model = dict(generator=dict(type='PReNet_real', stages=4))
