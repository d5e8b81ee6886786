"""Plots, the comparison figure and the report folder, built from the real grid store."""
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis import figures, plots, report, store
from analysis.style import method_colors

pytestmark = pytest.mark.slow


def test_plots_open_with_panels_and_embedded_fonts(store_root, tmp_path):
    runs = store.discover_runs([store_root])
    df = store.tidy(runs)
    colors = method_colors(df['method'])
    assert len(plots.bubble(df, colors).axes) == 1              # one test set
    bars = plots.ablation_bars(df, colors)
    assert len(bars.axes[0].patches) == 3                       # one bar per grid variant
    paths = plots.write_all(df, store.per_image(runs), store.training_curves(runs), tmp_path)
    names = {p.name for p in paths}
    assert {'psnr_vs_gmacs.pdf', 'ablation_bars.png', 'per_image_psnr.png'} <= names
    for path in paths:
        if path.suffix == '.png':
            with Image.open(path) as img:
                assert np.asarray(img.convert('L')).std() > 5
        else:
            assert b'/FontFile2' in path.read_bytes()           # TrueType fonts embedded


def test_comparison_figure_layout_and_captions(store_root, pairs):
    runs = {r.method: r for r in store.discover_runs([store_root]) if r.seed == 0}
    methods = {m: runs[m].path / 'images' / 'Rain100L' for m in ('base', 'median on')}
    fig = figures.comparison_figure(gt_dir=pairs['gt'], methods=methods,
                                    rainy_dir=pairs['rainy'], n_images=2, error_maps=True)
    main_axes = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    assert len(main_axes) == 2 * 2 * 4                         # (image + error) rows × 4 columns
    assert [ax.get_title() for ax in main_axes[:4]] == ['Rainy input', 'base', 'median on',
                                                        'Ground truth']
    # the caption under a method tile agrees with eval_folder's stored per-image PSNR
    stem = main_axes[0].get_ylabel()
    stored = json.loads((runs['median on'].path / 'results' / 'Rain100L.json').read_text())
    psnr = next(r['psnr_y'] for r in stored['images'] if Path(r['name']).stem == stem)
    assert main_axes[2].get_xlabel().startswith(f'PSNR {psnr:.2f} dB')


def test_report_folder_html_references_existing_files(store_root, pairs, tmp_path, debian_tool):
    out = tmp_path / 'report'
    page = report.build_report([store_root], out, gt=pairs['gt'], rainy=pairs['rainy'])
    text = page.read_text()
    refs = re.findall(r'src="([^"]+)"', text)
    assert len(refs) >= 4 and any('comparison_Rain100L' in r for r in refs)
    assert all((out / r).is_file() for r in refs)
    assert '<table>' in text and '≈' in text     # 3 images: best and second tie
    summary = (out / 'summary.md').read_text()
    assert '## Ablation' in summary and all((out / r).is_file()
                                            for r in re.findall(r'\]\(([^)]+)\)', summary))
    for name in ('results_tidy.csv', 'ablation.tex', 'comparison.md', 'stats.csv',
                 'plots/forest_psnr.pdf', 'plots/paired_diffs_psnr.png'):
        assert (out / name).is_file()
    # statistics in words, numbered citations, plural counts, links to each table's twins
    assert 'What the data supports' in text and 'Rain100L (3 images, 2 seeds; vs base)' in text
    assert '[zamir2021mprnet]' not in text and 'href="#ref-1"' in text and 'Zamir' in text
    assert '7 runs, 4 methods, test set: Rain100L.' in text
    assert all((out / href).is_file() for href in re.findall(r'href="([^"#]+)"', text))
    assert 'href="ablation.tex"' in text and 'href="comparison.csv"' in text
    _screenshot_check(page, tmp_path, debian_tool('chromium', 'chromium'))


def _screenshot_check(page: Path, tmp_path: Path, chromium: str | None) -> None:
    if chromium is None:
        pytest.skip('chromium is not installed and `apt-get install -y chromium` failed')
    shot = tmp_path / 'shot.png'
    subprocess.run([chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                    '--no-first-run', '--disable-background-networking',
                    '--disable-component-update', '--disable-sync',
                    f'--user-data-dir={tmp_path / "chrome"}', '--window-size=1200,2400',
                    f'--screenshot={shot}', page.as_uri()], capture_output=True, timeout=120)
    with Image.open(shot) as img:
        pixels = np.asarray(img.convert('L'), dtype=np.float64)
    assert pixels.std() > 10                                    # not a blank page
    assert (pixels < 60).mean() > 0.005                         # text and table rules drawn
