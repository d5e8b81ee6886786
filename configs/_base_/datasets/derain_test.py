# The five deraining test sets, packed HDF5 (python -m data_tools pack SRC data/<name>.h5).
# One dataloader and one evaluator per set, evaluated by MultiTestLoop; each writes
# results/<testset>.json. Override a path by index, e.g.
#   --cfg-options test_dataloader.1.dataset.ann_file=/data/Rain100H.h5
# Index: 0 Rain100L, 1 Rain100H, 2 Test100, 3 Test1200, 4 Test2800.
test_dataloader = [
    dict(batch_size=1, num_workers=2, persistent_workers=False,
         sampler=dict(type='DefaultSampler', shuffle=False),
         collate_fn=dict(type='pseudo_collate'),
         dataset=dict(type='H5PairedDataset', ann_file='data/Rain100L.h5', testset='Rain100L',
                      test_mode=True, pipeline=[])),
    dict(batch_size=1, num_workers=2, persistent_workers=False,
         sampler=dict(type='DefaultSampler', shuffle=False),
         collate_fn=dict(type='pseudo_collate'),
         dataset=dict(type='H5PairedDataset', ann_file='data/Rain100H.h5', testset='Rain100H',
                      test_mode=True, pipeline=[])),
    dict(batch_size=1, num_workers=2, persistent_workers=False,
         sampler=dict(type='DefaultSampler', shuffle=False),
         collate_fn=dict(type='pseudo_collate'),
         dataset=dict(type='H5PairedDataset', ann_file='data/Test100.h5', testset='Test100',
                      test_mode=True, pipeline=[])),
    dict(batch_size=1, num_workers=2, persistent_workers=False,
         sampler=dict(type='DefaultSampler', shuffle=False),
         collate_fn=dict(type='pseudo_collate'),
         dataset=dict(type='H5PairedDataset', ann_file='data/Test1200.h5', testset='Test1200',
                      test_mode=True, pipeline=[])),
    dict(batch_size=1, num_workers=2, persistent_workers=False,
         sampler=dict(type='DefaultSampler', shuffle=False),
         collate_fn=dict(type='pseudo_collate'),
         dataset=dict(type='H5PairedDataset', ann_file='data/Test2800.h5', testset='Test2800',
                      test_mode=True, pipeline=[])),
]
test_evaluator = [
    dict(type='Evaluator', metrics=[dict(type='DerainMetric')]),  # Rain100L
    dict(type='Evaluator', metrics=[dict(type='DerainMetric')]),  # Rain100H
    dict(type='Evaluator', metrics=[dict(type='DerainMetric')]),  # Test100
    dict(type='Evaluator', metrics=[dict(type='DerainMetric')]),  # Test1200
    dict(type='Evaluator', metrics=[dict(type='DerainMetric')]),  # Test2800
]
test_cfg = dict(type='MultiTestLoop')
