"""Tables from the real grid store: ranking marks, mean ± std, quoted rows, LaTeX structure.

The fast tests at the end build the tidy table from in-memory runs (axis columns, quoted and
external rows), without the fixture grid.
"""
import json
import statistics
import subprocess
from pathlib import Path

import pytest

from analysis import store, tables
from analysis.__main__ import main
from danet.evaluation.protocols import build_protocol


@pytest.fixture(scope='module')
def df(store_root):
    return store.tidy(store.discover_runs([store_root]))


def _psnr_by_method(store_root) -> dict[str, list[float]]:
    """Straight from the results files: method → psnr_y per seed."""
    out = {}
    for run_json in store_root.glob('grid/*/*/run.json'):
        meta = json.loads(run_json.read_text())
        labels = [a['label'] for a in meta['axes'].values()]
        results = json.loads((run_json.parent / 'results' / 'Rain100L.json').read_text())
        out.setdefault(' / '.join(labels) or 'base', []).append(results['summary']['psnr_y'])
    return out


@pytest.mark.slow
def test_ablation_mean_std_and_best_bold(df, store_root):
    table = tables.ablation_table(df)
    expected = _psnr_by_method(store_root)
    psnr = next(c for c in table.columns if c.group == 'Rain100L' and c.label == 'PSNR')
    for row, stat in zip(table.rows, psnr.values, strict=True):
        assert stat.n == 2
        assert stat.mean == pytest.approx(statistics.mean(expected[row.label]))
        assert stat.std == pytest.approx(statistics.stdev(expected[row.label]))
    best = max(expected, key=lambda m: statistics.mean(expected[m]))
    worst = min(expected, key=lambda m: statistics.mean(expected[m]))
    latex = tables.to_latex(table)
    body = latex.split('\\midrule\n')[1].split('\\bottomrule')[0].splitlines()
    lines = dict(zip([row.label for row in table.rows], body, strict=True))
    best_mean = statistics.mean(expected[best])
    assert lines[best].startswith(tables.latex_escape(best))
    # the filter ignores the ALM, so base and w/o ALM score identically: tied, neither bold
    assert statistics.mean(expected['base']) == statistics.mean(expected['w/o ALM']) == best_mean
    for method in ('base', 'w/o ALM'):
        assert rf'{best_mean:.2f} $\pm$' in lines[method] and '$\\approx$' in lines[method]
    assert r'\textbf' not in latex
    worst_line = lines[worst]          # third: no mark (the two above it share the top)
    assert rf'{statistics.mean(expected[worst]):.2f}' in worst_line
    assert 'underline' not in worst_line and 'approx' not in worst_line
    md = tables.to_markdown(table)
    assert f'{best_mean:.2f} ± ' in md and '**' not in md and ' ≈' in md
    # component columns: the ALM axis is ✗ for "w/o ALM" and ✓ for the base config
    alm = next(c for c in table.columns if c.label == 'alm')
    marks = dict(zip([r.label for r in table.rows], alm.values, strict=True))
    assert marks['w/o ALM'] == '✗' and marks['base'] == '✓'
    # the runner recorded the base's own choice per axis; the grid named the filter column
    meta = json.loads(next(store_root.glob('grid/*/base_*/run.json')).read_text())
    assert meta['base_axes']['derain_filter.kind'] == {'label': 'none', 'value': 'none'}
    assert [c.label for c in table.columns[:2]] == ['alm', 'Filter']


@pytest.mark.slow
def test_comparison_quoted_block_is_not_ranked(df):
    table = tables.comparison_table(df, tables.load_external())
    labels = [r.label for r in table.rows]
    quoted = [label for label in labels if label.endswith('†')]   # MPRNet, PReNet README rows
    assert 'rainy input' in labels and 'MPRNet†' in quoted
    assert labels[-len(quoted):] == quoted                       # the quoted block comes last
    psnr = table.columns.index(next(c for c in table.columns
                                    if c.group == 'Rain100L' and c.label == 'PSNR'))
    emphasis = dict(zip(labels, table.marks()[psnr], strict=True))
    assert emphasis['MPRNet†'] == '' and emphasis['rainy input'] == ''   # references: unranked
    assert sum(map(bool, emphasis.values())) == 2     # among the 3 filters: best/second or ≈
    latex = tables.to_latex(table)
    assert r'MPRNet$^\dagger$~\cite{zamir2021mprnet}' in latex
    assert r'\textbf{36.40}' not in latex and tables.QUOTED_HEADER in latex
    assert latex.index(tables.QUOTED_HEADER) < latex.index('MPRNet')


@pytest.mark.slow
def test_latex_structure_and_compiles(df, tmp_path, debian_tool):
    latex = tables.to_latex(tables.ablation_table(df))
    body = [line for line in latex.splitlines() if line.endswith(r'\\') and '&' in line]
    n_cols = latex.split(r'\begin{tabular}{')[1].split('}')[0]
    assert all(line.count('&') == len(n_cols) - 1 for line in body if 'multicolumn' not in line)
    for word in (r'\toprule', r'\midrule', r'\bottomrule', r'\end{tabular}'):
        assert word in latex
    if not debian_tool('pdflatex', 'texlive-latex-base', 'texlive-latex-recommended'):
        pytest.skip('pdflatex missing and apt-get could not install it: LaTeX checked '
                    'structurally only')
    doc = tmp_path / 'doc.tex'
    doc.write_text('\\documentclass{article}\\usepackage{booktabs,amssymb}\\begin{document}\n'
                   + latex + '\\end{document}\n')
    proc = subprocess.run(['pdflatex', '-interaction=nonstopmode', doc.name], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]


@pytest.mark.slow
def test_table_command_writes_three_formats(store_root, tmp_path, capsys):
    main(['table', str(store_root), '--out-dir', str(tmp_path)])
    for name in ('ablation', 'comparison'):
        for ext in ('tex', 'md', 'csv'):
            assert (tmp_path / f'{name}.{ext}').stat().st_size > 0
    assert '| Method |' in capsys.readouterr().out


def test_emphasis_respects_direction():
    col = tables.Column('', 'LPIPS', [tables.Stat(0.3), tables.Stat(0.1), tables.Stat(0.2)],
                        decimals=4, lower_is_better=True)
    assert col.emphasis() == ['', 'best', 'second']


def test_bad_results_file_names_file(tmp_path, capsys):
    bad = tmp_path / 'run' / 'results' / 'Rain100L.json'
    bad.parent.mkdir(parents=True)
    bad.write_text('{"testset": "Rain100L"}')
    with pytest.raises(SystemExit) as exit_info:
        main(['collect', str(tmp_path), '--out', str(tmp_path / 'x.csv')])
    assert exit_info.value.code == 2 and 'Rain100L.json' in capsys.readouterr().err
    assert not (tmp_path / 'x.csv').exists()


# ------------------------------------------------ fast: tidy tables from in-memory runs
MASK, ALM = 'model.generator.alm.mask.type', 'model.generator.alm.type'


def _run(name: str, psnr: float, meta: dict | None = None, testset: str = 'Rain100L'):
    results = {'testset': testset, 'method': name, 'summary': {'psnr_y': psnr, 'ssim_y': 0.5},
               'images': [{'name': '001.png', 'psnr_y': psnr}], 'config_hash': None,
               'dataset_hash': 'gt', 'conventions': build_protocol().conventions()}
    return store.Run(path=Path(name), meta=meta or {}, results={testset: results})


def _grid_runs(recorded: bool) -> list[store.Run]:
    """base, parameter-free mask and w/o ALM; ``recorded=False``: a run.json before base_axes."""
    extra = {'base_axes': {ALM: {'label': 'PaperALM', 'value': 'PaperALM'},
                           MASK: {'label': 'learned mask', 'value': 'LearnedMask'}},
             'axis_names': {MASK: 'Mask'}} if recorded else {}
    cells = [('base', {}), ('pf', {MASK: {'label': 'parameter-free mask', 'value': 'RMM'}}),
             ('noalm', {ALM: {'label': 'w/o ALM', 'value': 'PlainALM'}})]
    return [_run(name, 20.0 + i, {'grid': 'g', 'seed': 0, 'axes': axes, **extra})
            for i, (name, axes) in enumerate(cells)]


def _axis_columns(table) -> dict[str, dict[str, str]]:
    return {c.label: dict(zip([r.label for r in table.rows], c.values, strict=True))
            for c in table.columns if not c.group and c.label not in ('Params (M)', 'GMACs')}


def test_ablation_multi_choice_axis_shows_the_base_label():
    table = tables.ablation_table(store.tidy(_grid_runs(recorded=True)))
    assert [c.label for c in table.columns[:2]] == ['alm', 'Mask']      # grid order, named
    columns = _axis_columns(table)
    assert columns['Mask'] == {'base': 'learned mask', 'parameter-free mask': 'parameter-free mask',
                               'w/o ALM': 'learned mask'}
    assert columns['alm'] == {'base': '✓', 'parameter-free mask': '✓', 'w/o ALM': '✗'}
    assert 'learned mask' in tables.to_latex(table)


def test_ablation_older_run_json_falls_back_to_base():
    columns = _axis_columns(tables.ablation_table(store.tidy(_grid_runs(recorded=False))))
    assert columns['mask']['base'] == 'base' and columns['mask']['w/o ALM'] == 'base'
    assert columns['alm'] == {'base': '✓', 'parameter-free mask': '✓', 'w/o ALM': '✗'}


def test_comparison_has_rainy_input_row_and_drops_empty_quoted_rows():
    df = store.tidy([*_grid_runs(recorded=True), _run('Rainy input', 15.0)])
    external = [{'method': 'Kept', 'cite': 'k2020', 'results': {'Rain100L': {'psnr_y': 30.0}}},
                {'method': 'Elsewhere', 'cite': 'e2021', 'results': {'Rain100H': {'psnr_y': 29}}}]
    table = tables.comparison_table(df, external)
    labels = [r.label for r in table.rows]
    assert labels[0] == 'Rainy input' and 'Kept†' in labels and 'Elsewhere†' not in labels
    psnr = next(c for c in table.columns if c.label == 'PSNR')
    assert psnr.values[0].mean == 15.0
    assert any('omitted: Elsewhere (e2021)' in note for note in table.notes)
    assert 'Rainy input' not in [r.label for r in tables.ablation_table(df).rows]


def test_mixed_scoring_gets_columns_named_in_words_and_a_footnote():
    """A test set scored with two crop borders and on two ground truths: one column per group,
    headed in words (no hash fragments), and a note naming what differs."""
    runs = [_run('a', 30.0), _run('b', 31.0), _run('c', 32.0)]
    for run, crop in zip(runs, (0, 4, 0), strict=True):
        run.results['Rain100L']['conventions']['crop_border'] = crop
    runs[2].results['Rain100L']['dataset_hash'] = 'other_gt'
    df = store.tidy(runs)
    assert sorted(df['testset_key'].unique()) == [
        'Rain100L [crop_border 0, ground truth 1]', 'Rain100L [crop_border 0, ground truth 2]',
        'Rain100L [crop_border 4, ground truth 1]']
    table = tables.comparison_table(df, [])
    assert len({c.group for c in table.columns if c.label == 'PSNR'}) == 3
    (note,) = [n for n in table.notes if n.startswith('Rain100L:')]
    assert 'crop_border (0 / 4)' in note and '2 = dataset hash other_gt' in note
