"""analysis keeps evaluation protocols apart: separate columns, an error if one column would mix
them, and the protocol printed under every table."""
from pathlib import Path

import pytest

from analysis import store, tables
from danet.evaluation.protocols import build_protocol


def _run(name: str, psnr: float, protocol: str, crop: int = 0, grid: bool = False):
    conventions = build_protocol(dict(type=protocol, crop_border=crop)).conventions()
    results = {'testset': 'Rain100L', 'method': name, 'summary': {'psnr_y': psnr},
               'images': [{'name': '001.png', 'psnr_y': psnr}], 'config_hash': None,
               'dataset_hash': 'gt', 'conventions': conventions}
    meta = {'grid': 'g', 'seed': 0, 'axes': {'x': {'label': name, 'value': name}}} if grid else {}
    return store.Run(path=Path(name), meta=meta, results={'Rain100L': results})


def test_different_protocols_get_their_own_columns_and_notes():
    df = store.tidy([_run('a', 30.0, 'mprnet_matlab'), _run('b', 31.0, 'prenet_matlab'),
                     _run('c', 32.0, 'basicsr', crop=4)])
    keys = sorted(df['testset_key'].unique())
    assert keys == ['Rain100L [basicsr crop 4]', 'Rain100L [mprnet_matlab]',
                    'Rain100L [prenet_matlab]']
    table = tables.comparison_table(df, [])
    assert len({c.group for c in table.columns if c.label == 'PSNR'}) == 3
    notes = '\n'.join(table.notes)
    for label in ('mprnet_matlab', 'prenet_matlab', 'basicsr crop 4'):
        assert f'Evaluation protocol: {label} (Rain100L).' in notes
    assert 'Evaluation protocol: prenet_matlab' in tables.to_markdown(table)


def test_one_column_never_ranks_two_protocols():
    df = store.tidy([_run('a', 30.0, 'mprnet_matlab'), _run('b', 31.0, 'prenet_matlab')])
    df['testset_key'] = df['testset']      # as if someone grouped by test set name only
    with pytest.raises(store.AnalysisError,
                       match=r'Rain100L: .*different evaluation protocols '
                             r'\(mprnet_matlab, prenet_matlab\)'):
        tables.comparison_table(df, [])


def test_single_protocol_is_printed_under_ablation_table():
    df = store.tidy([_run('a', 30.0, 'prenet_matlab', grid=True),
                     _run('b', 31.0, 'prenet_matlab', grid=True)])
    assert not df['mixed'].any()
    table = tables.ablation_table(df)
    assert 'Evaluation protocol: prenet_matlab (Rain100L).' in table.notes
    assert '% Evaluation protocol: prenet_matlab (Rain100L).' in tables.to_latex(table)
