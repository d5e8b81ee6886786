# PReNet's Rain100H setting: RainTrainH (1,254 pairs after removing the 546 that share test
# backgrounds), 100x100 patches, batch 18; tested on Rain100H and Rain100L under PReNet's own
# evaluation protocol (prenet_matlab: truncated uint8, float Y, Wang's ssim.m).
#   python -m data_tools pack RainTrainH data/RainTrainH.h5 --val-fraction 0.01
# The authors cut a fixed patch set (stride 80) once; here every epoch draws one random 100x100
# crop per image.
_base_ = ['./rain13k.py']
train_dataloader = dict(
    batch_size=18,
    dataset=dict(ann_file='data/RainTrainH.h5',
                 pipeline=[dict(type='PairedRandomCrop', crop_size=100)]))
val_dataloader = dict(dataset=dict(ann_file='data/RainTrainH.h5'))
_test_set = dict(batch_size=1, num_workers=2, persistent_workers=False,
                 sampler=dict(type='DefaultSampler', shuffle=False),
                 collate_fn=dict(type='pseudo_collate'))
test_dataloader = [
    dict(_test_set, dataset=dict(type='H5PairedDataset', ann_file='data/Rain100L.h5',
                                 testset='Rain100L', test_mode=True, pipeline=[])),
    dict(_test_set, dataset=dict(type='H5PairedDataset', ann_file='data/Rain100H.h5',
                                 testset='Rain100H', test_mode=True, pipeline=[])),
]
_metric = dict(type='RestorationMetric', metrics=['psnr_y', 'ssim_y', 'psnr_rgb', 'ssim_rgb'],
               protocol='prenet_matlab')
test_evaluator = [dict(type='Evaluator', metrics=[_metric]),   # Rain100L
                  dict(type='Evaluator', metrics=[_metric])]   # Rain100H
test_cfg = dict(type='MultiTestLoop')
