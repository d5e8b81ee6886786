# Train40 as shipped in the platform's shared data (40 heavy-rain pairs, up to 3072x2048, read
# from their folder: nothing to pack), 100x100 crops, batch 18; tested on the shipped Rain100L
# and Rain100H folders under PReNet's protocol (prenet_matlab). The shared folder is
# $DANET_SHARED/data, else ../shared/data from the folder you run in (tests/conftest.py finds it
# the same way): from outside the clone, `export DANET_SHARED=/path/to/shared`.
# Validation scores 96x96 centre crops of the training images themselves (the fit, not
# generalisation: Train40 has no held-out split as shipped). Two of its backgrounds are Rain100
# test images; for numbers to publish, pack it without them (docs/datasets.md):
#   python -m data_tools pack $DANET_SHARED/data/Train40 data/Train40.h5 --val-fraction 0.1 \
#       --exclude-overlap-with data/Rain100L.h5 data/Rain100H.h5
_shared = '{{$DANET_SHARED:../shared}}/data'
train_dataloader = dict(
    batch_size=18,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='FolderPairedDataset', ann_file=_shared + '/Train40',
                 pipeline=[dict(type='PairedRandomCrop', crop_size=100),
                           dict(type='PairedFlipRot8')]))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='FolderPairedDataset', ann_file=_shared + '/Train40', testset='val',
                 pipeline=[dict(type='PairedCenterCrop', crop_size=96)]))
_metric = dict(type='RestorationMetric', metrics=['psnr_y', 'ssim_y', 'psnr_rgb', 'ssim_rgb'],
               protocol='prenet_matlab')
val_evaluator = dict(type='Evaluator', metrics=[_metric])
test_dataloader = [
    dict(batch_size=1, num_workers=0, persistent_workers=False,
         sampler=dict(type='DefaultSampler', shuffle=False),
         collate_fn=dict(type='pseudo_collate'),
         dataset=dict(type='FolderPairedDataset', ann_file=f'{_shared}/{name}', testset=name,
                      test_mode=True, pipeline=[]))
    for name in ('Rain100L', 'Rain100H')]
test_evaluator = [dict(type='Evaluator', metrics=[_metric]) for _ in test_dataloader]
test_cfg = dict(type='MultiTestLoop')
