"""What a person would notice when looking at the figures: every plot and figure of the report
is rendered (PDF pages with ``pdftoppm``) and checked from the artists' bounding boxes: markers
wholly inside the axes, legends clear of markers, labels of different panels not overlapping,
the zoom inset clear of the zoomed region, fonts embedded, one colour per method everywhere."""
import json
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex
from matplotlib.transforms import Bbox
from PIL import Image

from analysis import figures, plots, report, stats, store
from analysis.store import AnalysisError
from analysis.style import method_colors
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def _overlap(a, b, tol: float = 0.5) -> bool:
    return (a.x0 + tol < b.x1 and b.x0 + tol < a.x1 and a.y0 + tol < b.y1 and b.y0 + tol < a.y1)


def _marker_boxes(ax):
    """Display-space squares around every scatter marker of ``ax``."""
    boxes = []
    for coll in ax.collections:
        if not isinstance(coll, PathCollection) or not len(coll.get_offsets()):
            continue
        sizes = np.broadcast_to(coll.get_sizes(), (len(coll.get_offsets()),))
        centres = ax.transData.transform(coll.get_offsets())
        for (cx, cy), s in zip(centres, sizes, strict=True):
            r = np.sqrt(s) / 2 * ax.figure.dpi / 72
            boxes.append(Bbox([[cx - r, cy - r], [cx + r, cy + r]]))
    return boxes


def _check_figure(fig, name: str) -> None:
    """Markers inside their axes, legends off the markers, no text of one panel over another's."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    drawn = fig.get_tightbbox(renderer)                       # what savefig keeps, in inches
    assert drawn.width <= fig.get_size_inches()[0] + 0.05, f'{name}: wider than its layout'
    panels = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    legends = [lg for lg in [*fig.legends, *(ax.get_legend() for ax in panels)] if lg]
    for ax in panels:
        frame = ax.get_window_extent()
        for box in _marker_boxes(ax):
            assert frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1 and \
                frame.y0 - 1 <= box.y0 and box.y1 <= frame.y1 + 1, f'{name}: marker clipped'
            for legend in legends:
                assert not _overlap(legend.get_window_extent(renderer), box), \
                    f'{name}: legend over a marker'
    for ax in panels:          # an image squeezed by its labels is a layout failure
        if ax.images:
            share = fig.bbox.width / ax.get_subplotspec().get_gridspec().ncols
            assert ax.get_window_extent().width > 0.6 * share, f'{name}: image tile squeezed'
    for ax in panels:          # title and axis labels of one panel apart
        own = [t.get_window_extent(renderer) for t in (ax.title, ax.xaxis.label, ax.yaxis.label)
               if t.get_visible() and t.get_text()]
        assert not any(_overlap(a, b) for a, b in combinations(own, 2)), f'{name}: labels clash'
    texts = {}
    for i, ax in enumerate(panels):
        frame = ax.get_window_extent()
        ticks = [t for t in ax.get_xticklabels()      # the locator's ticks beyond the view
                 if frame.x0 - 1 <= t.get_window_extent(renderer).x0 + t.get_window_extent(
                     renderer).width / 2 <= frame.x1 + 1]              # limits are not drawn
        ticks += [t for t in ax.get_yticklabels()
                  if frame.y0 - 1 <= t.get_window_extent(renderer).y0 + t.get_window_extent(
                      renderer).height / 2 <= frame.y1 + 1]
        parts = [ax.title, ax.xaxis.label, ax.yaxis.label, *ticks]
        texts[i] = [t.get_window_extent(renderer) for t in parts if t.get_visible()
                    and t.get_text()]
    for (i, a), (j, b) in combinations(texts.items(), 2):
        for box_a in a:
            for box_b in b + [p.get_window_extent() for p in (panels[j],)]:
                assert not _overlap(box_a, box_b), f'{name}: text of panel {i} overlaps {j}'
    for legend in fig.legends:
        for ax in panels:
            assert not _overlap(legend.get_window_extent(renderer), ax.get_window_extent()), \
                f'{name}: figure legend over a panel'


def _colours_by_label(fig) -> dict[str, str]:
    """Method → colour as drawn: scatter and line labels, and the figure legend."""
    found = {}
    for ax in fig.axes:
        for coll in ax.collections:
            if coll.get_label() and not coll.get_label().startswith(('_', 'seed')):
                found[coll.get_label()] = to_hex(coll.get_facecolor()[0], keep_alpha=False)
        for line in ax.get_lines():
            if line.get_label() and not line.get_label().startswith('_'):
                found[line.get_label()] = to_hex(line.get_color())
    return found


@pytest.fixture(scope='module')
def grid(store_root):
    runs = store.discover_runs([store_root])
    return runs, store.tidy(runs)


@pytest.mark.parametrize('layout', ['single', 'double'])
def test_plots_fit_their_column_and_nothing_overlaps(grid, layout):
    runs, df = grid
    colors = method_colors(df['method'])
    comparisons = stats.grid_comparisons(runs)
    made = {'bubble': plots.bubble(df, colors, layout=layout),
            'bars': plots.ablation_bars(df, colors, layout=layout),
            'per_image': plots.per_image(store.per_image(runs), colors, layout=layout),
            'forest': plots.forest(stats.to_frame(comparisons), colors, layout=layout)}
    for name, fig in made.items():
        assert fig.get_size_inches()[0] == {'single': 3.5, 'double': 7.0}[layout], name
        _check_figure(fig, f'{name} ({layout})')
    # one colour per method in every figure, the same as the report's palette
    drawn = _colours_by_label(made['bubble'])
    assert drawn and all(to_hex(colors[m]) == c for m, c in drawn.items())
    bars = made['bars'].axes[0]
    labels = [t.get_text().split('\n')[0] for t in bars.get_xticklabels()]   # 2nd: complexity
    assert [to_hex(p.get_facecolor(), keep_alpha=False) for p in bars.patches] == \
        [to_hex(colors[m]) for m in labels]
    boxes = made['per_image'].axes[0]
    labels = [t.get_text() for t in boxes.get_xticklabels()]
    assert [to_hex(p.get_facecolor()) for p in boxes.patches] == \
        [to_hex(colors[m]) for m in labels]                     # opaque, the same colours


def test_bubble_log_x_and_real_param_sizes(grid):
    _, df = grid
    wide = df.copy()
    wide.loc[wide['method'] == 'base', 'gmacs'] *= 50        # MACs now span more than 10×
    colors = method_colors(df['method'])
    fig = plots.bubble(wide, colors)
    assert fig.axes[0].get_xscale() == 'log'
    assert plots.bubble(df, colors).axes[0].get_xscale() == 'linear'
    _check_figure(fig, 'bubble log-x')
    params = {f'{v / 1e3:.3g} K params' for v in df['params'].dropna()}   # below 1 M: in K
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(text in params for text in legend)             # real values in the size legend


def test_ablation_bars_start_at_the_input_and_show_each_seed(grid):
    _, df = grid
    ax = plots.ablation_bars(df, method_colors(df['method'])).axes[0]
    rainy = df[(df['method'] == 'rainy input') & (df['metric'] == 'psnr_y')]['value'].mean()
    assert all(abs(p.get_y() - rainy) < 1e-9 for p in ax.patches)   # bars = gain over input
    assert ax.get_ylim()[0] <= rainy
    seed_marks = [c for c in ax.collections if c.get_label().startswith('seed')]
    assert len(seed_marks) == 2                                  # two seeds, two markers
    paths = [c.get_paths()[0].vertices.round(3).tobytes() for c in seed_marks]
    assert paths[0] != paths[1]
    caps = [line for line in ax.get_lines() if line.get_marker() in ('_', '|')]
    assert not caps                                             # error bars without caps


def test_training_curves_one_panel_per_term_and_say_why_negative(tmp_path):
    log = tmp_path / 'run' / 'logs' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    lines = [{'loss': 0.02 - 0.01 * i, 'loss_char': 0.05 - 0.005 * i,
              'loss_ssim': -0.03 - 0.005 * i, 'iter': i + 1, 'epoch': 1, 'step': i + 1}
             for i in range(4)] + [{'val/psnr_y': 25.0, 'step': 1}]
    log.write_text('\n'.join(json.dumps(line) for line in lines) + '\n')
    curves = store.training_curves([store.Run(path=tmp_path / 'run')])
    fig = plots.training_curves(curves, method_colors(curves['method']), layout='single')
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == 'Total loss' and 'loss_ssim < 0' in fig.axes[0].get_ylabel()
    assert {'char', 'ssim', 'val. PSNR'} <= set(titles)
    val = fig.axes[titles.index('val. PSNR')]
    assert 'PSNR (Y, dB)' in val.get_ylabel() and 'protocol not recorded' in val.get_ylabel()
    _check_figure(fig, 'training curves')
    # the run's own validation protocol, read from the config the run stored
    (tmp_path / 'run' / 'config.py').write_text(
        "val_evaluator = dict(type='Evaluator', metrics=[dict(type='DerainMetric', "
        "metrics=['psnr_y'], protocol=dict(type='basicsr', crop_border=4))])\n")
    curves = store.training_curves([store.Run(path=tmp_path / 'run')])
    fig = plots.training_curves(curves, method_colors(curves['method']), layout='single')
    assert 'basicsr crop 4' in fig.axes[-1].get_ylabel()


def test_inset_never_hides_the_zoomed_region(store_root, pairs):
    runs = {r.method: r for r in store.discover_runs([store_root]) if r.seed == 0}
    methods = {m: runs[m].path / 'images' / 'Rain100L' for m in ('base', 'median on')}
    for box in ((300, 200, 120, 90), (10, 10, 60, 60)):   # lower right, upper left corners
        fig = figures.comparison_figure(gt_dir=pairs['gt'], methods=methods,
                                        rainy_dir=pairs['rainy'], n_images=1, box=box,
                                        error_maps=True)
        fig.canvas.draw()
        tiles = [ax for ax in fig.axes if ax.get_subplotspec() is not None and ax.images
                 and ax.child_axes]
        assert len(tiles) == 4 + 3                        # image row + error row (no gt column)
        for ax in tiles:
            x, y, w, h = box
            region = ax.transData.transform([[x, y], [x + w, y + h]])
            zone = Bbox([region.min(axis=0), region.max(axis=0)])
            inset = ax.child_axes[0].get_window_extent()
            assert not _overlap(inset, zone)
            assert ax.get_window_extent().contains(*inset.p0)
            assert len(ax.child_axes[0].get_xlim()) == 2
        # connector lines from the box to the inset, and a colour bar with units
        assert any(type(c).__name__ == 'InsetIndicator' for ax in tiles
                   for c in ax.get_children())
        bar = [child for ax in fig.axes for child in ax.child_axes
               if 'levels' in child.get_ylabel()]
        assert bar, 'error maps need a colour bar in 8-bit levels'
        _check_figure(fig, f'comparison box {box}')


def test_figure_box_outside_image_is_a_one_line_error(store_root, pairs):
    run = next(r for r in store.discover_runs([store_root]) if r.method == 'base')
    proc = subprocess.run(
        [sys.executable, '-m', 'analysis', 'figure', '--gt', str(pairs['gt']),
         '--method', f'base={run.path / "images" / "Rain100L"}', '--box', '0,0,5000,20',
         '--out', str(pairs['gt'].parent / 'never')], cwd=REPO_ROOT, capture_output=True,
        text=True)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert '--box 0,0,5000,20 does not fit' in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_real_photos_without_ground_truth(store_root, pairs):
    runs = {r.method: r for r in store.discover_runs([store_root]) if r.seed == 0}
    methods = {m: runs[m].path / 'images' / 'Rain100L' for m in ('base', 'median on')}
    fig = figures.comparison_figure(gt_dir=None, methods=methods, rainy_dir=pairs['rainy'],
                                    n_images=1, layout='single')
    panels = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    assert [ax.get_title() for ax in panels[:3]] == ['Rainy input', 'base', 'median on']
    crops = [ax.images[0].get_array().shape for ax in panels[3:]]
    assert len(crops) == 3 and len(set(crops)) == 1          # crops side by side, same size
    assert fig.get_size_inches()[0] == 3.5
    _check_figure(fig, 'real photos')
    with pytest.raises(AnalysisError, match='--gt, or --rainy'):
        figures.comparison_figure(gt_dir=None, methods=methods)
    with pytest.raises(AnalysisError, match='do not fit a single column'):
        figures.comparison_figure(gt_dir=pairs['gt'], methods=methods, rainy_dir=pairs['rainy'],
                                  layout='single')


def test_report_says_how_to_get_missing_figure_inputs(store_root, tmp_path):
    assert '--save-images' in report.figure_missing(Path('gt'), None, {}, 'Rain100L')
    out = tmp_path / 'report'
    report.build_report([store_root], out)                    # no --gt: no figure, and why
    page = (out / 'index.html').read_text()
    assert 'No comparison figure: no --gt' in page
    assert '<code>python -m analysis report</code>' in page     # Markdown code rendered
    assert '`' not in page and '**' not in page                  # no raw Markdown anywhere
    assert 'No comparison figure' in (out / 'summary.md').read_text()


def test_rendered_pdfs_have_embedded_fonts_and_look_like_the_pngs(grid, pairs, store_root,
                                                                  tmp_path, debian_tool):
    pdftoppm = debian_tool('pdftoppm', 'poppler-utils')
    if pdftoppm is None:
        pytest.skip('pdftoppm is not installed and `apt-get install -y poppler-utils` failed')
    out = tmp_path / 'report'
    report.build_report([store_root], out, gt=pairs['gt'], rainy=pairs['rainy'])
    pdfs = sorted(out.glob('**/*.pdf'))
    assert len(pdfs) >= 6
    for pdf in pdfs:
        fonts = subprocess.run(['pdffonts', str(pdf)], capture_output=True, text=True,
                               check=True).stdout.splitlines()[2:]
        assert fonts and all(line.split()[-5] == 'yes' for line in fonts), f'{pdf}: {fonts}'
        stem = tmp_path / pdf.stem
        subprocess.run([pdftoppm, '-png', '-r', '60', '-singlefile', str(pdf), str(stem)],
                       check=True, capture_output=True)
        with Image.open(f'{stem}.png') as page, Image.open(pdf.with_suffix('.png')) as png:
            rendered = np.asarray(page.convert('L').resize((64, 64)), dtype=np.float64)
            saved = np.asarray(png.convert('L').resize((64, 64)), dtype=np.float64)
        assert rendered.std() > 5, f'{pdf}: blank page'
        assert np.abs(rendered - saved).mean() < 20, f'{pdf}: PDF and PNG differ'
        # nothing touches the page edge: a cut-off label would
        edge = np.concatenate([rendered[0], rendered[-1], rendered[:, 0], rendered[:, -1]])
        assert edge.min() > 100 or 'comparison' in pdf.name, f'{pdf}: drawn to the edge'
