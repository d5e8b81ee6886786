"""Plots from stored results: PSNR vs GMACs bubbles, ablation bars, training curves, per-image
PSNR distributions, and from the paired statistics a forest plot of Δ vs base and per-image
differences. Each function returns the figure; ``write_all`` saves PDF and PNG."""
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from analysis.style import RC, method_colors, save
from analysis.tables import METRIC_LABELS


def _panels(n: int, width: float = 3.2, height: float = 2.8):
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    return fig, list(axes[0])


def bubble(df: pd.DataFrame, colors: dict, metric: str = 'psnr_y'):
    """Metric vs GMACs per test set; bubble area ∝ parameters."""
    part = df[(df['metric'] == metric) & df['gmacs'].notna()]
    stats = part.groupby(['testset_key', 'method']).agg(
        value=('value', 'mean'), gmacs=('gmacs', 'mean'), params=('params', 'mean')).reset_index()
    testsets = sorted(stats['testset_key'].unique())
    fig, axes = _panels(max(len(testsets), 1))
    scale = 600 / max(stats['params'].max(), 1) if not stats.empty else 1
    for ax, testset in zip(axes, testsets, strict=False):
        for row in stats[stats['testset_key'] == testset].itertuples():
            ax.scatter(row.gmacs, row.value, s=max(row.params * scale, 15), alpha=0.7,
                       color=colors[row.method], edgecolor='black', linewidth=0.5,
                       label=row.method)
        ax.set(title=testset, xlabel='GMACs', ylabel=METRIC_LABELS[metric])
    axes[-1].legend(fontsize=7, markerscale=0.5, loc='best', title='bubble ∝ params')
    return fig


def ablation_bars(df: pd.DataFrame, colors: dict, metric: str = 'psnr_y'):
    """Mean metric per variant with std error bars over seeds, one panel per test set."""
    part = df[(df['metric'] == metric) & (df['source'] == 'grid')]
    testsets = sorted(part['testset_key'].unique())
    fig, axes = _panels(max(len(testsets), 1), width=max(3.2, 0.6 * part['method'].nunique()))
    for ax, testset in zip(axes, testsets, strict=False):
        stats = part[part['testset_key'] == testset].groupby('method', sort=False)['value'].agg(
            ['mean', 'std']).fillna(0)
        ax.bar(range(len(stats)), stats['mean'], yerr=stats['std'], capsize=3,
               color=[colors[m] for m in stats.index], edgecolor='black', linewidth=0.5)
        ax.set_xticks(range(len(stats)), stats.index, rotation=30, ha='right')
        low = (stats['mean'] - stats['std']).min()
        high = (stats['mean'] + stats['std']).max()
        pad = max((high - low) * 0.3, 1e-3)
        ax.set(title=testset, ylabel=METRIC_LABELS[metric], ylim=(low - pad, high + pad))
    return fig


def training_curves(curves: pd.DataFrame, colors: dict):
    """Training loss and validation PSNR against the iteration, one line per run."""
    fig, (ax_loss, ax_val) = _panels(2)
    for (method, _), part in curves.groupby(['method', 'run_dir'], sort=False):
        loss = part[part['key'] == 'loss']
        val = part[part['key'] == 'psnr_y']
        ax_loss.plot(loss['step'], loss['value'], color=colors[method], lw=1, label=method)
        ax_val.plot(val['step'], val['value'], color=colors[method], lw=1, marker='o', ms=3)
    ax_loss.set(title='Training loss', xlabel='iteration', ylabel='loss')
    ax_val.set(title='Validation PSNR', xlabel='iteration', ylabel=METRIC_LABELS['psnr_y'])
    handles, labels = ax_loss.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax_loss.legend(unique.values(), unique.keys(), fontsize=7)
    return fig


def per_image(images: pd.DataFrame, colors: dict):
    """Distribution of per-image PSNR (averaged over seeds) per method, one panel per test set."""
    testsets = sorted(images['testset'].unique())
    fig, axes = _panels(max(len(testsets), 1), width=max(3.2, 0.6 * images['method'].nunique()))
    for ax, testset in zip(axes, testsets, strict=False):
        part = images[images['testset'] == testset].groupby(['method', 'name'], sort=False)[
            'value'].mean().reset_index()
        methods = list(dict.fromkeys(part['method']))
        data = [part.loc[part['method'] == m, 'value'] for m in methods]
        box = ax.boxplot(data, patch_artist=True, widths=0.6)
        for patch, method in zip(box['boxes'], methods, strict=True):
            patch.set(facecolor=colors[method], alpha=0.8)
        ax.set_xticks(range(1, len(methods) + 1), methods, rotation=30, ha='right')
        ax.set(title=testset, ylabel='per-image ' + METRIC_LABELS['psnr_y'])
    return fig


def forest(comparisons: pd.DataFrame, colors: dict, metric: str = 'psnr_y'):
    """Δ vs A with 95% CIs per comparison, one panel per test set; filled = significant."""
    part = comparisons[comparisons['metric'] == metric]
    testsets = sorted(part['testset'].unique())
    fig, axes = _panels(max(len(testsets), 1), width=3.6, height=0.5 + 0.45 * part['b'].nunique())
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
        ax.set(title=testset, xlabel=f'Δ {METRIC_LABELS[metric]} (95% CI; filled: significant)')
    return fig


def paired_diffs(diffs: pd.DataFrame, colors: dict, n_label: int = 3):
    """Per-image B − A (averaged over seeds) per comparison; the most affected images named."""
    testsets = sorted(diffs['testset'].unique())
    n_rows = diffs.groupby('testset')['b'].nunique().max() if len(diffs) else 1
    fig, axes = _panels(max(len(testsets), 1), width=4.4, height=0.6 + 0.75 * n_rows)
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
              diffs: pd.DataFrame | None = None) -> list[Path]:
    """Every plot the data supports, as PDF and PNG under ``out_dir``.

    ``comparisons`` (``stats.to_frame``) and ``diffs`` (``stats.image_diffs``) add the forest
    plot and the per-image paired differences.
    """
    out_dir = Path(out_dir)
    colors = colors or method_colors(df['method'])
    made = []
    with plt.rc_context(RC):
        jobs = []
        if df['gmacs'].notna().any():
            jobs.append(('psnr_vs_gmacs', lambda: bubble(df, colors)))
        if (df['source'] == 'grid').any():
            jobs.append(('ablation_bars', lambda: ablation_bars(df, colors)))
        if not curves.empty:
            jobs.append(('training_curves', lambda: training_curves(curves, colors)))
        if not images.empty:
            jobs.append(('per_image_psnr', lambda: per_image(images, colors)))
        if comparisons is not None and not comparisons.empty:
            jobs.append(('forest_psnr', lambda: forest(comparisons, colors)))
        if diffs is not None and not diffs.empty:
            jobs.append(('paired_diffs_psnr', lambda: paired_diffs(diffs, colors)))
        for i, (name, build) in enumerate(jobs, 1):
            print(f'[analysis] plot {i}/{len(jobs)}: {name}')
            made += save(build(), out_dir / name)
    return made

