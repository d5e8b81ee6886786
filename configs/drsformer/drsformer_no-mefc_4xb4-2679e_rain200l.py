# DRSformer without MEFC (the release's DRSformer_arch_200L+SPA.py: "We do not use MEFC for
# training Rain200L and SPA-Data"), its recipe on Rain200L: otherwise as
# drsformer_4xb4-2679e_rain200h.py. Its released Rain200L/SPA-Data weights convert with
#   python tools/convert_checkpoint.py --config THIS_FILE SRC DST
_base_ = ['./drsformer_4xb4-2679e_rain200h.py']
model = dict(generator=dict(mefc=dict(type='NoMEFC')))
train_dataloader = dict(dataset=dict(ann_file='data/Rain200L.h5'))
val_dataloader = dict(dataset=dict(ann_file='data/Rain200L.h5'))
