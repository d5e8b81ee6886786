"""Paired statistics: CI coverage over repeated draws, null cases, Holm, tables, ``compare``.

Synthetic stores are written with the platform's own ``write_results`` (per-image PSNR of a
base, of a variant = base + 0.2 dB + noise, and of a variant with no effect); the real fixture
grid (3 variants × 2 seeds on 3 Rain100L images) checks the command end to end.
"""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis import report, stats, store, tables
from danet.evaluation.protocols import build_protocol
from danet.evaluation.results import build_results, write_results
from tests.conftest import REPO_ROOT

EFFECT, NOISE = 0.2, 0.3


def test_ci_covers_the_true_effect_at_the_nominal_rate():
    """200 draws of 30 images: the 95% CI covers +0.2 dB ~95% of the time; the null is rarely
    significant (the measured rates are printed; docs/analysis.md quotes them)."""
    rng = np.random.default_rng(1)
    covered = null_significant = effect_found = 0
    draws = 200
    for d in range(draws):
        base = rng.normal(30, 2, (1, 30))
        effect = stats.compare_scores(base, base + EFFECT + rng.normal(0, NOISE, base.shape),
                                      'psnr_y', n_boot=1000, rng_seed=d)
        null = stats.compare_scores(base, base + rng.normal(0, NOISE, base.shape), 'psnr_y',
                                    n_boot=1000, rng_seed=d)
        covered += effect['ci_low'] <= EFFECT <= effect['ci_high']
        effect_found += effect['p_value'] < stats.ALPHA
        null_significant += null['p_value'] < stats.ALPHA and (null['ci_low'] > 0
                                                               or null['ci_high'] < 0)
    print(f'coverage {covered / draws:.3f}, null significant {null_significant / draws:.3f}, '
          f'power {effect_found / draws:.3f}')
    assert 0.91 <= covered / draws <= 0.99
    assert null_significant / draws <= 0.09
    assert effect_found / draws >= 0.9


def test_seed_resampling_widens_the_ci_for_seed_noise():
    """3 seeds whose means shift by N(0, 0.15): resampling seeds covers the truth; images alone
    (seed means pooled) would give a CI far too narrow."""
    rng = np.random.default_rng(2)
    covered, widths, draws = 0, [], 150
    for d in range(draws):
        images = rng.normal(30, 2, 40)
        a = images + rng.normal(0, 0.15, (3, 1)) + rng.normal(0, 0.05, (3, 40))
        b = images + EFFECT + rng.normal(0, 0.15, (3, 1)) + rng.normal(0, 0.05, (3, 40))
        c = stats.compare_scores(a, b, 'psnr_y', n_boot=1000, rng_seed=d)
        pooled = stats.compare_scores(a.mean(0, keepdims=True), b.mean(0, keepdims=True),
                                      'psnr_y', n_boot=1000, rng_seed=d)
        covered += c['ci_low'] <= EFFECT <= c['ci_high']
        widths.append((c['ci_high'] - c['ci_low']) / (pooled['ci_high'] - pooled['ci_low']))
    print(f'seeds then images: coverage {covered / draws:.3f}, '
          f'CI {np.median(widths):.1f}× wider than images only')
    assert covered / draws >= 0.75 and np.median(widths) > 3


def test_holm_and_wilcoxon():
    assert stats.holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert stats.wilcoxon_p(np.zeros(5)) == 1.0
    assert stats.wilcoxon_p(np.arange(1, 6.0)) == pytest.approx(0.0625)   # 2 / 2^5


# ------------------------------------------------------------- synthetic stores on disk
def _conventions(crop_border: int) -> dict:
    return build_protocol(dict(type='mprnet_matlab', crop_border=crop_border)).conventions()


def _write_run(run_dir: Path, method: str, psnr: np.ndarray, grid_axes: dict | None = None,
               seed: int = 0, crop_border: int = 0) -> Path:
    rows = [{'name': f'{i:03d}.png', 'psnr_y': float(v), 'ssim_y': 0.8 + float(v) / 1000}
            for i, v in enumerate(psnr)]
    write_results(run_dir / 'results' / 'Rain100L.json',
                  build_results('Rain100L', method, rows, _conventions(crop_border), None,
                                'gt1'))
    if grid_axes is not None:
        meta = {'grid': 'g', 'run_id': run_dir.name, 'seed': seed, 'axes': grid_axes}
        (run_dir / 'run.json').write_text(json.dumps(meta))
        (run_dir / 'DONE.json').write_text('{}')
    return run_dir


VARIANTS = {'base': {}, 'w/o A': {'a': {'label': 'w/o A', 'value': 'x'}},
            'w/o B': {'b': {'label': 'w/o B', 'value': 'y'}},
            'w/o C': {'c': {'label': 'w/o C', 'value': 'z'}}}


@pytest.fixture(scope='module')
def synthetic_grid(tmp_path_factory) -> Path:
    """base; ``w/o A`` = base + 0.2 dB; ``w/o B`` and ``w/o C`` = base; 2 seeds, 40 images, each
    run adding N(0, 0.15 dB) per image."""
    root = tmp_path_factory.mktemp('synthetic_grid')
    rng = np.random.default_rng(0)
    images = rng.normal(30, 2, 40)
    shift = {'base': 0.0, 'w/o A': EFFECT, 'w/o B': 0.0, 'w/o C': 0.0}
    for name, axes in VARIANTS.items():
        for seed in (0, 1):
            values = images + shift[name] + rng.normal(0, NOISE / 2, images.shape)
            _write_run(root / f'{name.replace("/", "")}_s{seed}', 'x', values, axes, seed)
    return root


def test_grid_table_marks_what_the_data_supports(synthetic_grid):
    runs = store.discover_runs([synthetic_grid])
    paired = stats.Paired(runs)
    found = {c.b: c for c in paired.comparisons if c.metric == 'psnr_y'}
    assert set(found) == {'w/o A', 'w/o B', 'w/o C'}
    assert found['w/o A'].significant and found['w/o A'].ci_low < EFFECT < found['w/o A'].ci_high
    assert not found['w/o B'].significant and not found['w/o C'].significant
    assert found['w/o A'].win_fraction > 0.6 and found['w/o A'].seed_ratio > 1
    assert found['w/o A'].p_adjusted == pytest.approx(min(1, 3 * found['w/o A'].p_value))

    table = tables.ablation_table(store.tidy(runs), paired)
    md = tables.to_markdown(table)
    delta = next(c for c in table.columns if c.label == 'ΔPSNR [95% CI]')
    cells = dict(zip([r.label for r in table.rows], delta.values, strict=True))
    assert cells['base'] == '–' and cells['w/o A'].significant
    assert cells['w/o A'].text(2).endswith('*') and not cells['w/o B'].text(2).endswith('*')
    psnr = table.columns.index(next(c for c in table.columns if c.label == 'PSNR'))
    marks = dict(zip([r.label for r in table.rows], table.marks()[psnr], strict=True))
    assert marks['w/o A'] == 'best'             # significantly better than the second
    assert 'Holm-corrected over 3 comparisons' in md and 'Rain100L: 40 images' in md
    latex = tables.to_latex(table)
    assert r'$\Delta$PSNR' in latex and r'\textbf{' in latex


def test_best_and_second_tied_without_a_significant_difference(synthetic_grid, tmp_path):
    """Without ``w/o A`` the three remaining methods differ by noise only: marked tied, not bold."""
    runs = [r for r in store.discover_runs([synthetic_grid]) if r.method != 'w/o A']
    table = tables.ablation_table(store.tidy(runs), stats.Paired(runs))
    psnr = table.columns.index(next(c for c in table.columns if c.label == 'PSNR'))
    marks = table.marks()[psnr]
    assert sorted(marks) == ['', 'tied', 'tied']
    assert '**' not in tables.to_markdown(table).split('\n\n')[0]
    assert r'$\approx$' in tables.to_latex(table)


def test_marks_need_three_ranked_methods_and_skip_reference_rows():
    col = tables.Column('R', 'PSNR', [tables.Stat(20.0), tables.Stat(25.0), tables.Stat(30.0)])
    col.lower_is_better = False
    assert col.emphasis() == ['', 'second', 'best']
    assert col.emphasis([True, True, False]) == ['', '', '']          # two ranked: no marks
    rows = [tables.Row('Rainy input', reference=True), tables.Row('a'), tables.Row('b'),
            tables.Row('c'), tables.Row('Q†', 'q2020', reference=True)]
    column = tables.Column('R', 'PSNR', [tables.Stat(v) for v in (15, 20, 21, 22, 40)], 2, False)
    table = tables.Table('t', rows, [column])
    assert table.marks()[0] == ['', '', 'second', 'best', '']
    md = tables.to_markdown(table)
    assert md.index(tables.QUOTED_HEADER) < md.index('Q† [q2020]')
    assert tables.QUOTED_HEADER in tables.to_latex(table)


def _analysis(*argv, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, '-m', 'analysis', *map(str, argv)], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    if check and proc.returncode:
        pytest.fail(proc.stderr)
    return proc


def test_compare_command_json_and_protocol_check(synthetic_grid, tmp_path):
    out = tmp_path / 'cmp.json'
    base, effect = synthetic_grid / 'base_s0', synthetic_grid / 'wo A_s0'
    proc = _analysis('compare', base, effect, '--testset', 'Rain100L', '--json', out)
    assert 'psnr_y' in proc.stdout
    psnr = json.loads(out.read_text())['results']['Rain100L']['psnr_y']
    assert {'mean_diff', 'ci_low', 'ci_high', 'p_value', 'n_images', 'significant'} <= set(psnr)
    assert psnr['n_images'] == 40 and psnr['significant']
    assert psnr['ci_low'] < psnr['mean_diff'] < psnr['ci_high']
    assert abs(psnr['mean_diff'] - EFFECT) < 0.15

    # an external folder scored with another crop border: refused, exit code 2, one line
    other = _write_run(tmp_path / 'cropped', 'other', np.full(40, 30.0), crop_border=4)
    proc = _analysis('compare', base, other, check=False)
    assert proc.returncode == 2 and 'metric conventions' in proc.stderr
    assert 'Traceback' not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_summary_words_name_what_holds(synthetic_grid):
    runs = store.discover_runs([synthetic_grid])
    (text,) = report.summary_sentences(stats.Paired(runs).comparisons)
    assert text.startswith('Rain100L (40 images, 2 seeds; vs base): w/o A changes PSNR')
    assert 'the seed-to-seed spread' in text


@pytest.mark.slow
def test_real_grid_stats_and_compare(store_root, tmp_path):
    """The fixture grid (3 images, 2 seeds): numbers equal a direct computation from the files."""
    runs = store.discover_runs([store_root])
    found = {(c.b, c.metric): c for c in stats.grid_comparisons(runs)}
    median = found[('median on', 'psnr_y')]
    per_seed = {}
    for name in ('base', 'median on'):
        per_seed[name] = np.array([[r['psnr_y'] for r in sorted(
            json.loads((run.path / 'results' / 'Rain100L.json').read_text())['images'],
            key=lambda r: r['name'])] for run in runs if run.method == name])
    diffs = per_seed['median on'].mean(0) - per_seed['base'].mean(0)
    assert median.mean_diff == pytest.approx(diffs.mean())
    assert (median.n_images, median.n_seeds_a, median.n_seeds_b) == (3, 2, 2)
    assert not median.significant             # 3 images: the signed-rank test cannot reach 0.05
    # the comparison figure's default images: the largest |Δ| first (w/o ALM changes nothing)
    names = sorted(r['name'] for r in runs[0].results['Rain100L']['images'])
    diffs_frame = stats.image_diffs(runs, [c for c in found.values() if c.metric == 'psnr_y'])
    assert stats.most_affected(diffs_frame, 'Rain100L', n=3) == [
        names[i] for i in np.argsort(-np.abs(diffs), kind='stable')]
    out = tmp_path / 'stats.csv'
    _analysis('stats', store_root, '--out', out, '--all-pairs')
    assert len(out.read_text().splitlines()) == 1 + 3 * 2        # 3 pairs × (PSNR, SSIM)


def _runs(folder: Path) -> list:
    return store.discover_runs([folder])


def test_compare_pairs_images_by_name_and_names_the_unmatched(synthetic_grid, tmp_path):
    """Rows in another order pair by name; a missing or renamed image is refused by name."""
    base = synthetic_grid / 'base_s0'
    rows = json.loads((base / 'results' / 'Rain100L.json').read_text())['images']
    values = np.array([r['psnr_y'] for r in rows])
    shuffled = _write_run(tmp_path / 'shuffled', 'shuffled', values + 0.5)
    data = json.loads((shuffled / 'results' / 'Rain100L.json').read_text())
    data['images'].reverse()
    (shuffled / 'results' / 'Rain100L.json').write_text(json.dumps(data))
    (psnr, _) = stats.compare_groups(_runs(base), _runs(shuffled))
    assert psnr.mean_diff == pytest.approx(0.5) and psnr.win_fraction == 1.0

    fewer = _write_run(tmp_path / 'fewer', 'fewer', values[:-1])
    proc = _analysis('compare', base, fewer, check=False)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert "only in A: 039.png" in proc.stderr

    renamed = _write_run(tmp_path / 'renamed', 'renamed', values)
    data = json.loads((renamed / 'results' / 'Rain100L.json').read_text())
    data['images'][3]['name'] = 'x003.png'
    (renamed / 'results' / 'Rain100L.json').write_text(json.dumps(data))
    with pytest.raises(store.AnalysisError, match='only in A: 003.png; only in B: x003.png'):
        stats.compare_groups(_runs(base), _runs(renamed))


def test_an_infinite_psnr_leaves_out_psnr_only(synthetic_grid, tmp_path, capsys):
    base = synthetic_grid / 'base_s0'
    rows = json.loads((base / 'results' / 'Rain100L.json').read_text())['images']
    values = np.array([r['psnr_y'] for r in rows])
    run = _write_run(tmp_path / 'inf', 'inf', values + 0.1)
    data = json.loads((run / 'results' / 'Rain100L.json').read_text())
    data['images'][5]['psnr_y'] = data['summary']['psnr_y'] = math.inf     # an identical pair
    (run / 'results' / 'Rain100L.json').write_text(json.dumps(data))
    found = stats.compare_groups(_runs(base), _runs(run))
    assert [c.metric for c in found] == ['ssim_y']
    assert 'psnr_y left out' in capsys.readouterr().out


@pytest.mark.parametrize('variants, all_pairs, expected', [
    (['base'], True, 'only one grid variant (base)'),
    (['w/o A', 'w/o B'], False, 'no base run; pass --all-pairs'),
    ([], False, 'no grid runs'),
])
def test_stats_with_nothing_to_compare_says_what_is_missing(tmp_path, variants, all_pairs,
                                                            expected):
    for name in variants:
        _write_run(tmp_path / name.replace('/', ''), 'x', np.full(5, 30.0), VARIANTS[name])
    _write_run(tmp_path / 'external', 'ext', np.full(5, 30.0))
    proc = _analysis('stats', tmp_path, '--out', tmp_path / 's.csv',
                     *(['--all-pairs'] if all_pairs else []), check=False)
    assert proc.returncode == 2 and expected in proc.stderr, proc.stderr
    assert not (all_pairs and '--all-pairs' in proc.stderr)
