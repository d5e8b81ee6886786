"""analysis keeps evaluation protocols apart: separate columns, an error if one column would mix
them, and the protocol printed under every table."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from analysis import store, tables
from danet.evaluation.protocols import build_protocol
from danet.evaluation.results import build_results, write_results
from tests.conftest import REPO_ROOT


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
    for label in ('mprnet_matlab', 'prenet_matlab', 'basicsr'):
        assert f'Evaluation protocol (Rain100L): {label}: ' in notes
    assert '4-pixel border cropped' in notes                   # the protocol in words
    assert "prenet_matlab: PReNet's scripts (truncated" in tables.to_markdown(table)


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
    assert table.notes[-1].startswith('Evaluation protocol (Rain100L): prenet_matlab: ')
    assert '% Evaluation protocol (Rain100L): prenet_matlab: ' in tables.to_latex(table)


def _write_grid_run(root: Path, model: str, testset: str, psnr: float, protocol: str,
                    protocol_axis: bool) -> None:
    """A finished evaluate-only grid run on disk, as ``python -m ablations run`` leaves it."""
    axes = {'model.generator.type': {'label': model, 'value': model}}
    if protocol_axis:
        axes['test_evaluator.0.metrics.0.protocol'] = {'label': protocol, 'value': protocol}
    run_dir = root / f'{model}_{protocol}_{testset}'.lower()
    rows = [{'name': f'{i:03d}.png', 'psnr_y': psnr + d, 'ssim_y': 0.9 + d / 100}
            for i, d in enumerate((-0.1, 0.0, 0.1))]
    write_results(run_dir / 'results' / f'{testset}.json',
                  build_results(testset, model, rows,
                                build_protocol(dict(type=protocol)).conventions(), None, 'gt'))
    (run_dir / 'run.json').write_text(json.dumps({'grid': root.name, 'run_id': run_dir.name,
                                                  'seed': 0, 'axes': axes}))
    (run_dir / 'DONE.json').write_text('{}')


def test_protocol_table_one_row_per_model_and_test_set(tmp_path):
    """A grid scored under prenet_matlab plus a grid re-scoring the same models under two other
    protocols (the protocol an axis): one row per model × test set, a column group per protocol
    named in words, the published value beside, nothing ranked."""
    scores = {('PRN', 'Rain100H'): 28.0, ('PReNet', 'Rain100H'): 29.4,
              ('PReNet', 'Rain100L'): 37.4}
    for (model, testset), psnr in scores.items():
        _write_grid_run(tmp_path / 'readme', model, testset, psnr, 'prenet_matlab', False)
        for shift, protocol in ((0.03, 'mprnet_matlab'), (0.05, 'basicsr')):
            _write_grid_run(tmp_path / 'protocols', model, testset, psnr + shift, protocol, True)
    external = tmp_path / 'quoted.yaml'
    external.write_text(yaml.safe_dump({'entries': [
        {'method': 'PReNet (README)', 'measured_as': 'PReNet', 'cite': 'ren2019prenet',
         'protocol': 'prenet_matlab', 'source': 'PReNet README',
         'results': {'Rain100H': {'psnr_y': 29.46, 'ssim_y': 0.899}}}]}))
    out = tmp_path / 'tables'
    proc = subprocess.run([sys.executable, '-m', 'analysis', 'table', str(tmp_path / 'readme'),
                           str(tmp_path / 'protocols'), '--out-dir', str(out),
                           '--external', str(external)], capture_output=True, text=True,
                          cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    text = (out / 'protocols.md').read_text()
    lines = text.splitlines()
    assert lines[0] == ('| Method | Test set | Published† PSNR | Published† SSIM | '
                        "PReNet's scripts PSNR | PReNet's scripts SSIM | BasicSR PSNR | "
                        "BasicSR SSIM | MPRNet's MATLAB PSNR | MPRNet's MATLAB SSIM |")
    rows = {tuple(cell.strip() for cell in line.split('|')[1:3]): line for line in lines[2:5]}
    assert set(rows) == {('PRN', 'Rain100H'), ('PReNet', 'Rain100H'), ('PReNet', 'Rain100L')}
    prenet_h = [c.strip() for c in rows[('PReNet', 'Rain100H')].split('|')[3:-1]]
    assert prenet_h == ['29.46', '0.899', '29.400', '0.9000', '29.450', '0.9000', '29.430',
                        '0.9000']
    assert rows[('PRN', 'Rain100H')].split('|')[3].strip() == '–'   # nothing published
    assert '**' not in text and '<u>' not in text                   # not ranked
    assert "PReNet's scripts = prenet_matlab: PReNet's scripts (truncated 8-bit output" in text
    assert 'PReNet (README): PReNet README; evaluated with prenet_matlab' in text
    assert '## What the evaluation protocol does' not in proc.stdout   # printed as a table
    assert "PReNet's scripts PSNR" in proc.stdout
    assert (out / 'protocols.tex').is_file() and (out / 'protocols.csv').is_file()
    assert not (out / 'ablation.md').exists()      # one model axis + a protocol axis: no ablation
    assert not (out / 'comparison.md').exists()    # it would spread this table over 3 groups
