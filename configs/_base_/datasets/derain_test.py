# The five deraining test sets, packed HDF5 (python -m data_tools pack SRC data/<name>.h5).
# One dataloader and one evaluator per set, evaluated by MultiTestLoop; each writes
# results/<testset>.json. Override a path by index, e.g.
#   --cfg-options test_dataloader.1.dataset.ann_file=/data/Rain100H.h5
# Index: 0 Rain100L, 1 Rain100H, 2 Test100, 3 Test1200, 4 Test2800.
test_dataloader = [
    dict(batch_size=1, num_workers=2, persistent_workers=False,
         sampler=dict(type='DefaultSampler', shuffle=False),
         collate_fn=dict(type='pseudo_collate'),
         dataset=dict(type='H5PairedDataset', ann_file=f'data/{name}.h5', testset=name,
                      test_mode=True, pipeline=[]))
    for name in ('Rain100L', 'Rain100H', 'Test100', 'Test1200', 'Test2800')]
test_evaluator = [dict(type='Evaluator', metrics=[dict(type='RestorationMetric')])
                  for _ in test_dataloader]
test_cfg = dict(type='MultiTestLoop')
