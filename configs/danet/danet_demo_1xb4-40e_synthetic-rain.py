# The README demo's derain grid (ablations/demo_tiny.py, docs/demo.md): the narrow smoke DANet
# trained for a minute on rain synthesised over scikit-image's photographs; the dehaze and
# low-light demo configs change only the data. ablations/demo.py writes it:
#   work_dirs/demo/data/derain/trainval.h5  train/val split of 6 photos (pack --val-fraction)
#   work_dirs/demo/data/derain/test.h5      3 further photos never seen in training ("SynthTest")
_base_ = ['./danet_smoke-cpu_1xb4-100e_train40.py']

# One epoch is a single pass over ~5 photos (2 iterations), so schedules count in tens of epochs;
# no loader workers: forking them every epoch would cost more than reading the 96x96 crops.
train_dataloader = dict(num_workers=0,
                        dataset=dict(ann_file='work_dirs/demo/data/derain/trainval.h5'))
val_dataloader = dict(dataset=dict(ann_file='work_dirs/demo/data/derain/trainval.h5'))

test_dataloader = [
    dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
         collate_fn=dict(type='pseudo_collate'),
         dataset=dict(type='H5PairedDataset', ann_file='work_dirs/demo/data/derain/test.h5',
                      testset='SynthTest', test_mode=True, pipeline=[])),
]
test_evaluator = [
    dict(type='Evaluator', metrics=[dict(type='RestorationMetric',
                                         metrics=['psnr_y', 'ssim_y', 'psnr_rgb', 'ssim_rgb'])]),
]

param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=40, eta_min=1e-5)]
train_cfg = dict(max_epochs=40, val_interval=40)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=40, max_keep_ckpts=1))
