"""One look for every figure: colour-blind-safe palette, one colour per method, embedded fonts."""
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

RC = {
    'pdf.fonttype': 42,          # TrueType, embedded in the PDF
    'ps.fonttype': 42,
    'font.family': 'DejaVu Sans',
    'font.size': 9,
    'axes.spines.top': False,
    'axes.spines.right': False,
    'savefig.bbox': 'tight',
    'savefig.dpi': 150,
}


def method_colors(methods) -> dict[str, tuple]:
    """A fixed colour per method (sorted names → seaborn's colour-blind palette, cycled)."""
    names = sorted(set(methods))
    palette = sns.color_palette('colorblind', n_colors=max(len(names), 1))
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}


def save(fig, out_stem) -> list:
    """Write ``out_stem``.pdf and .png atomically; return both paths."""
    from pathlib import Path

    from danet.utils.fileio import atomic_path
    paths = []
    for ext in ('pdf', 'png'):
        path = Path(f'{out_stem}.{ext}')
        with atomic_path(path, suffix=f'.{ext}') as tmp:
            fig.savefig(tmp, format=ext)
        paths.append(path)
    plt.close(fig)
    return paths
