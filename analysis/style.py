"""One look for every figure: colour-blind-safe palette, one colour per method, embedded fonts,
single-column (3.5 in) or double-column (7 in) widths."""
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

RC = {
    'pdf.fonttype': 42,          # TrueType, embedded in the PDF
    'ps.fonttype': 42,
    'font.family': 'DejaVu Sans',
    'font.size': 8,
    'axes.titlesize': 8,
    'axes.labelsize': 8,
    'legend.fontsize': 7,
    'xtick.labelsize': 7,
    'ytick.labelsize': 7,
    'axes.spines.top': False,
    'axes.spines.right': False,
    'savefig.bbox': 'tight',
    'savefig.pad_inches': 0.02,
    'savefig.dpi': 200,
}
WIDTHS = {'single': 3.5, 'double': 7.0}   # inches: one column / full width of a two-column paper
PALETTE_ORDER = (0, 1, 2, 4, 9, 3, 5, 7, 8, 6)   # indices into seaborn's 'colorblind'
MARKERS = ('o', 's', '^', 'D', 'v', 'P', 'X', '*')   # one per seed


def width(layout: str) -> float:
    """The figure width in inches for ``layout`` ('single' or 'double')."""
    return WIDTHS[layout]


def method_colors(methods) -> dict[str, tuple]:
    """A fixed colour per method: sorted names → seaborn's colour-blind palette (10 colours,
    then the same hues again, so reports with more methods repeat colours), reordered so that
    the first five (blue, orange, green, pink, sky blue) are far apart: orange and vermilion,
    adjacent in seaborn's order, are told apart badly side by side."""
    names = sorted(set(methods))
    base = sns.color_palette('colorblind', n_colors=10)
    palette = [base[i] for i in PALETTE_ORDER]
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
