"""collect: the tidy table built from a real grid store."""
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
    for col in ('params', 'gmacs', 'config_hash', 'dataset_hash', 'axis:derain_filter.type'):
        assert col in df.columns
    assert grid['gmacs'].gt(0).all()
    ext = df[df['source'] == 'eval']
    assert set(ext['method']) == {'rainy input'} and ext['gmacs'].isna().all()
    assert not df['mixed'].any()
