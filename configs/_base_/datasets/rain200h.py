# Rain200H training pairs (DRSformer's Datasets/train/Rain200H, input/ and target/ folders)
# packed with a held-out validation split of the TRAINING data:
#   python -m data_tools pack Datasets/train/Rain200H data/Rain200H.h5 --layout mprnet \
#       --val-fraction 0.01
# Rain200L: the same with Rain200L (override train/val ann_file). The release validates on the
# Rain200H test set instead; to reproduce that, point val_dataloader at that test file.
# The loaders are Rain13K's (rain13k.py) with this file, batch 4 and 128-pixel crops.
_base_ = ['./rain13k.py']

train_dataloader = dict(
    batch_size=4,
    dataset=dict(
        ann_file='data/Rain200H.h5',
        pipeline=[dict(type='PairedRandomCrop', crop_size=128), dict(type='PairedFlipRot8')]))
val_dataloader = dict(dataset=dict(ann_file='data/Rain200H.h5'))
