"""collect: the tidy table built from a real grid store."""
import json

import pandas as pd
import pytest

from analysis import store
from analysis.__main__ import main

pytestmark = pytest.mark.slow


def test_collect_rows_and_columns(store_root, tmp_path):
    out = tmp_path / 'tidy.csv'
    main(['collect', str(store_root), '--out', str(out)])
    df = pd.read_csv(out)
    grid = df[df['source'] == 'grid']
    assert grid['run_dir'].nunique() == 6                       # 3 variants × 2 seeds
    assert set(grid['method']) == {'base', 'w/o ALM', 'median on'}
    assert set(grid['seed']) == {0, 1}
    assert set(df['metric']) == set(store.METRICS)
    # one row per run × test set × metric
    assert not df.duplicated(['run_dir', 'testset', 'metric']).any()
    for col in ('params', 'gmacs', 'config_hash', 'dataset_hash', 'axis:derain_filter.kind'):
        assert col in df.columns
    assert grid['gmacs'].gt(0).all()
    ext = df[df['source'] == 'eval']
    assert set(ext['method']) == {'rainy input'} and ext['gmacs'].isna().all()
    assert not df['mixed'].any()


def test_epoch_based_validation_lands_on_the_iteration_axis(tmp_path):
    """MMEngine logs epoch-based validation with step = epoch; the curve must put it at the
    last iteration of that epoch, beside the training loss."""
    log = tmp_path / 'train' / 'logs' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    lines = [{'loss': 0.5, 'epoch': 1, 'iter': 2, 'step': 2},
             {'loss': 0.4, 'epoch': 2, 'iter': 4, 'step': 4},
             {'val/psnr_y': 20.0, 'step': 2}]
    log.write_text('\n'.join(json.dumps(line) for line in lines) + '\n')
    curves = store.training_curves([store.Run(path=tmp_path)])
    assert curves.loc[curves.key == 'psnr_y', 'step'].tolist() == [4]
    assert curves.loc[curves.key == 'loss', 'step'].tolist() == [2, 4]
