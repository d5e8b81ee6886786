"""Plots from stored results: PSNR vs GMACs bubbles, ablation bars, training curves, per-image
PSNR distributions, and from the paired statistics a forest plot of Δ vs base and per-image
differences. Each function returns the figure; ``write_all`` saves PDF and PNG."""
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from analysis.style import MARKERS, RC, method_colors, save, width
from analysis.tables import METRIC_LABELS, has_ablation, is_reference, ordered


def _panels(n: int, layout: str = 'double', aspect: float = 0.8, max_cols: int = 3,
            single_cols: int = 1):
    """``n`` panels filling the layout's width: up to ``single_cols`` columns for 'single', up
    to ``max_cols`` for 'double'; each panel ``aspect`` times as high as wide. Constrained
    layout, so legends placed ``outside`` take their own room."""
    cols = max(1, min(n, single_cols if layout == 'single' else max_cols))
    rows = -(-n // cols)
    panel_w = width(layout) / cols
    fig, axes = plt.subplots(rows, cols, figsize=(width(layout),
                                                  min(panel_w * aspect, 2.8) * rows + 0.4),
                             squeeze=False, layout='constrained')
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def legend_cols(layout: str) -> int:
    """Legend columns that fit the figure's width."""
    return 2 if layout == 'single' else 4


def protocol(df: pd.DataFrame) -> str:
    """The evaluation protocol(s) behind ``df``'s rows (``store.protocol_label``)."""
    names = sorted(df['protocol'].dropna().unique()) if 'protocol' in df else []
    return ' / '.join(names) or 'protocol not recorded'


def axis_label(metric: str, prefix: str = '') -> str:
    """e.g. 'PSNR (Y, dB)'."""
    unit = ', dB' if metric.startswith('psnr') else ''
    channel = 'Y' if metric.endswith('_y') else ('RGB' if metric.endswith('_rgb') else '')
    label = METRIC_LABELS[metric].replace(' (RGB)', '')
    inner = ', '.join(p for p in (channel, unit.strip(', ')) if p)
    return f'{prefix}{label}' + (f' ({inner})' if inner else '')


def _fit_limits(ax, xs, ys, sizes, log_x: bool, pad_pt: float = 4.0) -> None:
    """Axis limits that keep every marker (area ``sizes`` in pt²) wholly inside the axes."""
    fig = ax.figure
    fig.canvas.draw()
    box = ax.get_window_extent()
    px_per_pt = fig.dpi / 72
    radius = (np.sqrt(np.max(sizes)) / 2 + pad_pt) * px_per_pt
    for values, length, setter, log in ((np.asarray(xs, float), box.width, ax.set_xlim, log_x),
                                        (np.asarray(ys, float), box.height, ax.set_ylim, False)):
        v = np.log10(values) if log else values
        low, high = v.min(), v.max()
        span = high - low or max(abs(high) * 0.05, 0.05)
        frac = min(radius / length, 0.3)
        margin = span * frac / (1 - 2 * frac)
        low, high = (low - margin, high + margin) if high > low else (low - span, high + span)
        setter(*((10 ** low, 10 ** high) if log else (low, high)))


def _size_handles(params: pd.Series, area) -> list:
    """Legend entries for the real parameter counts (min, middle, max; distinct at 3 digits),
    in K when all are below a million (as the tables)."""
    scale, unit = (1e3, 'K') if params.max() < 1e6 else (1e6, 'M')
    shown = {f'{v / scale:.3g}': v for v in (params.min(), params.median(), params.max())}
    return [Line2D([], [], ls='', marker='o', ms=np.sqrt(area(v)), color='0.75', mec='black',
                   mew=0.5, label=f'{text} {unit} params') for text, v in shown.items()]


def complexity_text(df: pd.DataFrame, method: str) -> str:
    """``150.5 K, 59.0 GMACs`` for a variant's tick label ('' without complexity.json)."""
    runs = df[df['method'] == method].drop_duplicates('run_dir')
    params, gmacs = runs['params'].dropna(), runs['gmacs'].dropna()
    parts = []
    if len(params):
        value = params.iloc[0]
        parts.append(f'{value / 1e3:.1f} K' if value < 1e6 else f'{value / 1e6:.2f} M')
    if len(gmacs):
        parts.append(f'{gmacs.iloc[0]:.3g} GMACs')
    return ', '.join(parts)


def gmacs_label(df: pd.DataFrame) -> str:
    """``GMACs (input 256×256)`` when every run's MACs were counted at one size, else GMACs."""
    shapes = df.loc[df['gmacs'].notna(), 'macs_shape'].dropna().unique() \
        if 'macs_shape' in df else []
    return f'GMACs (input {shapes[0]})' if len(shapes) == 1 else 'GMACs'



def bubble(df: pd.DataFrame, colors: dict, metric: str = 'psnr_y', layout: str = 'double'):
    """Metric vs GMACs per test set; bubble area ∝ parameters (size legend with real values);
    log-x when GMACs span more than 10×; limits from the bubble sizes, legend outside."""
    part = df[(df['metric'] == metric) & df['gmacs'].notna()]
    stats = part.groupby(['testset_key', 'method']).agg(
        value=('value', 'mean'), gmacs=('gmacs', 'mean'), params=('params', 'mean')).reset_index()
    testsets = sorted(stats['testset_key'].unique())
    fig, axes = _panels(max(len(testsets), 1), layout)
    top = max(stats['params'].max(), 1e-9) if stats['params'].notna().any() else 1.0

    def area(p):
        return 25 + 275 * (p / top if p == p else 0)
    log_x = bool(len(stats)) and stats['gmacs'].max() > 10 * stats['gmacs'].min() > 0
    for ax, testset in zip(axes, testsets, strict=False):
        rows = stats[stats['testset_key'] == testset]
        sizes = [area(p) for p in rows['params']]
        for row, size in zip(rows.itertuples(), sizes, strict=True):
            ax.scatter(row.gmacs, row.value, s=size, alpha=0.8, color=colors[row.method],
                       edgecolor='black', linewidth=0.5, label=row.method, zorder=3)
        if log_x:
            ax.set_xscale('log')
        ax.set(title=f'{testset} ({protocol(part[part["testset_key"] == testset])})',
               xlabel=gmacs_label(part) + (', log scale' if log_x else ''),
               ylabel=axis_label(metric))
        ax.grid(alpha=0.3, lw=0.5)
        _fit_limits(ax, rows['gmacs'], rows['value'], sizes, log_x)
    handles = [Line2D([], [], ls='', marker='o', ms=6, color=colors[m], mec='black', mew=0.5,
                      label=m) for m in sorted(stats['method'].unique())]
    if stats['params'].notna().any():
        handles += _size_handles(stats['params'].dropna(), area)
    fig.legend(handles=handles, loc='outside lower center', frameon=False,
               ncols=min(len(handles), legend_cols(layout)))
    for ax in axes:      # the limits again, now that the legend took its room
        rows = stats[stats['testset_key'] == ax.get_title().split(' (')[0]]
        if len(rows):
            _fit_limits(ax, rows['gmacs'], rows['value'], [area(p) for p in rows['params']],
                        log_x)
    return fig


def _reference(df: pd.DataFrame, testset: str, metric: str) -> float | None:
    """The rainy input's mean on ``testset`` (a reference row), or None."""
    ref = df[(df['metric'] == metric) & (df['testset_key'] == testset)
             & df['method'].map(is_reference)]
    return float(ref['value'].mean()) if len(ref) else None


def ablation_bars(df: pd.DataFrame, colors: dict, metric: str = 'psnr_y', layout: str = 'double'):
    """Mean metric per grid variant, one panel per test set. With a rainy-input row the bars
    start at its value (dashed line), so their lengths are the gain over the input; without
    one, a bar from 0 would hide the differences and one from an arbitrary floor exaggerate
    them, so each variant's mean is a short line instead, on a range fitted to the data. Each
    seed is a point with its own marker; ±std bars (no caps) only for variants with 2+ seeds.
    In the double-column layout each tick names the variant with its parameters and GMACs."""
    part = df[(df['metric'] == metric) & (df['source'] == 'grid')]
    testsets = sorted(part['testset_key'].unique())
    fig, axes = _panels(max(len(testsets), 1), layout, max_cols=2)
    seeds = sorted(part['seed'].dropna().unique())
    for ax, testset in zip(axes, testsets, strict=False):
        rows = part[part['testset_key'] == testset]
        methods = ordered(rows['method'])
        stats = rows.groupby('method', sort=False)['value'].agg(['mean', 'std', 'count'])
        stats = stats.loc[methods]
        ref = _reference(df, testset, metric)
        x = np.arange(len(methods))
        if ref is not None:
            ax.bar(x, stats['mean'] - ref, bottom=ref, width=0.6, zorder=2,
                   color=[colors[m] for m in methods], edgecolor='black', linewidth=0.5)
            ax.axhline(ref, color='0.3', lw=0.8, ls='--', zorder=1, label='rainy input')
        else:
            ax.hlines(stats['mean'], x - 0.3, x + 0.3, colors=[colors[m] for m in methods],
                      lw=3, zorder=2)
            ax.grid(axis='y', alpha=0.3, lw=0.5)
        multi = stats['count'] >= 2
        ax.errorbar(x[multi.to_numpy()], stats['mean'][multi], yerr=stats['std'][multi],
                    fmt='none', ecolor='black', elinewidth=0.8, capsize=0, zorder=3)
        for k, seed in enumerate(seeds):
            pts = rows[rows['seed'] == seed].groupby('method')['value'].mean()
            offset = (k - (len(seeds) - 1) / 2) * 0.12
            ax.scatter([methods.index(m) + offset for m in pts.index], pts.values, s=12,
                       marker=MARKERS[k % len(MARKERS)], facecolor='white', edgecolor='black',
                       linewidth=0.6, zorder=4, label=f'seed {int(seed)}')
        values = list(rows['value']) + ([ref] if ref is not None else [])
        low, high = min(values), max(values)
        pad = 0.08 * (high - low or 1)
        ax.set_ylim(low - pad, high + pad)
        wide = layout == 'double'        # a single column has no room for a second line
        ax.set_xticks(x, [f'{m}\n{complexity_text(rows, m)}'.strip() if wide else m
                          for m in methods], rotation=30, ha='right')
        how = ('\nbars start at the rainy input' if ref is not None
               else '\nline: mean, points: seeds')
        ax.set(title=f'{testset} ({protocol(rows)})', ylabel=axis_label(metric) + how,
               xlabel=f'variant: parameters, {gmacs_label(rows)}'
               if wide and rows['gmacs'].notna().any() else '')
    handles, labels = axes[0].get_legend_handles_labels() if axes else ([], [])
    if handles:
        fig.legend(handles, labels, loc='outside lower center', frameon=False,
                   ncols=min(len(handles), legend_cols(layout)))
    return fig


def training_curves(curves: pd.DataFrame, colors: dict, layout: str = 'double'):
    """One panel per loss term (total first) and per validation metric, one line per run. A
    total that goes negative gets a note naming the negative terms (e.g. −SSIM)."""
    losses = sorted(k for k in curves['key'].unique() if k.startswith('loss'))
    losses = (['loss'] if 'loss' in losses else []) + [k for k in losses if k != 'loss']
    metrics = [k for k in METRIC_LABELS if k in set(curves['key'])]
    keys = losses + metrics
    fig, axes = _panels(len(keys), layout, max_cols=3, single_cols=2)
    for ax, key in zip(axes, keys, strict=True):
        for (method, _), part in curves[curves['key'] == key].groupby(['method', 'run_dir'],
                                                                       sort=False):
            ax.plot(part['step'], part['value'], color=colors[method], lw=1, label=method,
                    marker='o' if key in metrics else None, ms=3)
        if key in metrics:
            proto = protocol(curves[curves['key'] == key])
            ax.set(title=f'val. {METRIC_LABELS[key]}',
                   ylabel=axis_label(key, 'validation ') + f'\n{proto}, val split')
        elif key == 'loss':
            negative = [k for k in losses[1:] if (curves.loc[curves['key'] == k, 'value'] < 0)
                        .any()]
            label = 'total loss (sum of terms)'
            if (curves.loc[curves['key'] == 'loss', 'value'] < 0).any():
                why = ', '.join(negative) if negative else 'a term'
                label = f'total loss: < 0 as\n{why} < 0 (−SSIM)'
            ax.set(title='Total loss', ylabel=label)
        else:
            ax.set(title=key.removeprefix('loss_'), ylabel=key)
        ax.set_xlabel('iteration')
    handles, labels = axes[0].get_legend_handles_labels() if axes else ([], [])
    unique = dict(zip(labels, handles, strict=True))
    if unique:
        fig.legend(unique.values(), unique.keys(), loc='outside lower center', frameon=False,
                   ncols=min(len(unique), legend_cols(layout)))
    return fig


def per_image(images: pd.DataFrame, colors: dict, layout: str = 'double'):
    """Distribution of per-image PSNR (averaged over seeds) per method, one panel per test set
    and protocol."""
    images = images.assign(panel=images['testset'] + ' (' + images['protocol'] + ')')
    panels = sorted(images['panel'].unique())
    fig, axes = _panels(max(len(panels), 1), layout, max_cols=2)
    for ax, panel in zip(axes, panels, strict=False):
        part = images[images['panel'] == panel].groupby(['method', 'name'], sort=False)[
            'value'].mean().reset_index()
        methods = ordered(part['method'])
        data = [part.loc[part['method'] == m, 'value'] for m in methods]
        box = ax.boxplot(data, patch_artist=True, widths=0.6,
                         medianprops=dict(color='black', lw=1.2),
                         flierprops=dict(marker='o', ms=3, mfc='none', mec='0.3'))
        for patch, method in zip(box['boxes'], methods, strict=True):
            patch.set(facecolor=colors[method])
        ax.set_xticks(range(1, len(methods) + 1), methods, rotation=30, ha='right')
        ax.set(title=panel, ylabel=axis_label('psnr_y', 'per-image '))
    return fig


def forest(comparisons: pd.DataFrame, colors: dict, metric: str = 'psnr_y',
           layout: str = 'double'):
    """Δ vs A with 95% CIs per comparison, one panel per test set; filled = significant."""
    part = comparisons[comparisons['metric'] == metric]
    testsets = sorted(part['testset'].unique())
    fig, axes = _panels(max(len(testsets), 1), layout, max_cols=2,
                        aspect=min(1.2, (0.6 + 0.3 * part['b'].nunique()) / 3.5))
    for ax, testset in zip(axes, testsets, strict=False):
        rows = part[part['testset'] == testset].reset_index(drop=True)
        for y, row in rows.iterrows():
            color = colors.get(row['b'], 'black')
            ax.errorbar(row['mean_diff'], y, xerr=[[row['mean_diff'] - row['ci_low']],
                                                   [row['ci_high'] - row['mean_diff']]],
                        fmt='o', color=color, mfc=color if row['significant'] else 'white',
                        capsize=0, lw=1.5)
        ax.axvline(0, color='0.4', lw=0.8, ls='--')
        ax.set_yticks(range(len(rows)), [f'{b} vs {a}' for a, b in zip(rows['a'], rows['b'],
                                                                         strict=True)])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set(title=testset, xlabel=f'Δ {METRIC_LABELS[metric]} (95% CI)\nfilled: significant')
    return fig


def paired_diffs(diffs: pd.DataFrame, colors: dict, n_label: int = 3, layout: str = 'double'):
    """Per-image B − A (averaged over seeds) per comparison; the most affected images named."""
    testsets = sorted(diffs['testset'].unique())
    n_rows = diffs.groupby('testset')['b'].nunique().max() if len(diffs) else 1
    fig, axes = _panels(max(len(testsets), 1), layout, max_cols=2,
                        aspect=min(1.4, (0.8 + 0.55 * n_rows) / 3.5))
    for ax, testset in zip(axes, testsets, strict=False):
        part = diffs[diffs['testset'] == testset]
        order = list(dict.fromkeys(part['b']))
        palette = {b: colors.get(b, 'black') for b in order}
        sns.boxplot(part, x='diff', y='b', order=order, ax=ax, color='white', fliersize=0,
                    width=0.5, linewidth=0.8)
        sns.stripplot(part, x='diff', y='b', order=order, hue='b', palette=palette, ax=ax,
                      size=3, jitter=0.15, legend=False)
        ax.axvline(0, color='0.4', lw=0.8, ls='--')
        for y, b in enumerate(order):
            top = part[part['b'] == b].reindex(part.loc[part['b'] == b, 'diff'].abs()
                                               .nlargest(n_label).index)
            for k, row in enumerate(top.sort_values('diff').itertuples()):
                ax.annotate(Path(row.name).stem, (row.diff, y), xytext=(0, 7 + 7 * (k % 2)),
                            textcoords='offset points', fontsize=6, ha='center', va='bottom',
                            arrowprops=dict(arrowstyle='-', color='0.5', lw=0.5))
        ax.set(title=testset, ylabel='', xlabel=f'per-image Δ PSNR vs {part["a"].iloc[0]} (dB)')
        span = np.abs(part['diff']).max() if len(part) else 1
        ax.set_xlim(-1.15 * span - 1e-3, 1.15 * span + 1e-3)
    return fig


def write_all(df: pd.DataFrame, images: pd.DataFrame, curves: pd.DataFrame, out_dir,
              colors: dict | None = None, comparisons: pd.DataFrame | None = None,
              diffs: pd.DataFrame | None = None, layout: str = 'double') -> list[Path]:
    """Every plot the data supports, as PDF and PNG under ``out_dir``.

    ``comparisons`` (``stats.to_frame``) and ``diffs`` (``stats.image_diffs``) add the forest
    plot and the per-image paired differences; ``layout``: 'single' (3.5 in) or 'double' (7 in)
    wide figures.
    """
    out_dir = Path(out_dir)
    colors = colors or method_colors(df['method'])
    made = []
    with plt.rc_context(RC):
        jobs = []
        if df['gmacs'].notna().any():
            jobs.append(('psnr_vs_gmacs', lambda: bubble(df, colors, layout=layout)))
        if has_ablation(df):
            jobs.append(('ablation_bars', lambda: ablation_bars(df, colors, layout=layout)))
        if not curves.empty:
            jobs.append(('training_curves', lambda: training_curves(curves, colors, layout=layout)))
        if not images.empty:
            jobs.append(('per_image_psnr', lambda: per_image(images, colors, layout=layout)))
        if comparisons is not None and not comparisons.empty:
            jobs.append(('forest_psnr', lambda: forest(comparisons, colors, layout=layout)))
        if diffs is not None and not diffs.empty:
            jobs.append(('paired_diffs_psnr', lambda: paired_diffs(diffs, colors, layout=layout)))
        for i, (name, build) in enumerate(jobs, 1):
            print(f'[analysis] plot {i}/{len(jobs)}: {name}')
            made += save(build(), out_dir / name)
    return made

