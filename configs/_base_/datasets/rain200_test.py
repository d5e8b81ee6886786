# DRSformer's test sets, packed HDF5 (python -m data_tools pack Datasets/test/<name>
# data/<name>_test.h5 --layout mprnet). Index: 0 Rain200L, 1 Rain200H.
test_dataloader = [
    dict(batch_size=1, num_workers=2, persistent_workers=False,
         sampler=dict(type='DefaultSampler', shuffle=False),
         collate_fn=dict(type='pseudo_collate'),
         dataset=dict(type='H5PairedDataset', ann_file=f'data/{name}_test.h5', testset=name,
                      test_mode=True, pipeline=[]))
    for name in ('Rain200L', 'Rain200H')]
test_evaluator = [dict(type='Evaluator', metrics=[dict(type='RestorationMetric')])
                  for _ in test_dataloader]
test_cfg = dict(type='MultiTestLoop')
