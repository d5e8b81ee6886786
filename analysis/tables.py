"""Paper-style tables (LaTeX booktabs, Markdown, CSV) from the tidy results table.

Cells hold mean ± std over seeds; in a ranked column of at least three measured methods the
best value is bold and the second underlined, unless the paired test finds them tied (≈).
Reference rows (the rainy input, quoted numbers) are never ranked. Quoted numbers come from
``external_results.yaml`` and sit in their own block. Ablation tables add Δ vs base with a
95% CI per metric (``analysis/stats.py``).
"""
import io
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from analysis import stats
from analysis.store import BASE, LOWER_IS_BETTER, AnalysisError, differing_conventions, one_protocol
from danet.evaluation.metric_table import METRIC_TABLE, metrics_for

EXTERNAL_RESULTS = Path(__file__).with_name('external_results.yaml')


class _MetricField(Mapping):
    """Metric key -> one field of its metric-table row, read when asked (so rows added after
    import, a plug-in's or one a results file describes, are there), plus ``extra`` keys."""

    def __init__(self, field: str, extra: dict | None = None):
        self.field, self.extra = field, extra or {}

    def __getitem__(self, key):
        if key in self.extra:
            return self.extra[key]
        return getattr(METRIC_TABLE[key], self.field)

    def __iter__(self):
        return iter([*METRIC_TABLE, *self.extra])

    def __len__(self) -> int:
        return len(METRIC_TABLE) + len(self.extra)


METRIC_LABELS = _MetricField('label')
DECIMALS = _MetricField('decimals', {'params': 3, 'gmacs': 2})
OFF_WORDS = {'off', 'none', 'no', 'false', 'without', 'disabled', 'identity', 'wo'}
ON_WORDS = {'on', 'yes', 'true', 'with', 'enabled', 'full'}
QUOTED_MARK = '†'
SIGNIFICANT_MARK = '*'
TIED_MARK = '≈'
MINUS = '−'                          # U+2212 in Δ cells
DELTA_METRICS = ('psnr_y',)          # Δ columns (all metrics are in stats.csv)
MIN_RANKED = 3                       # fewer measured methods in a column: no best/second marks
REFERENCE_METHODS = {'input', 'rainy'}   # reference rows (lower-cased), and any '<task> input'
BASE_LABEL = 'base'   # the base's choice when run.json predates ``base_axes``
QUOTED_DECIMALS = {'psnr': 2, 'ssim': 3}   # as papers print them (0.890, not 0.8900)
PROTOCOL_TITLES = {'mprnet_matlab': "MPRNet's MATLAB", 'prenet_matlab': "PReNet's scripts",
                   'basicsr': 'BasicSR'}
PROTOCOL_WORDS = {   # danet/evaluation/protocols.py, in words
    'mprnet_matlab': "MPRNet's evaluate_PSNR_SSIM.m (rounded 8-bit output, Y of MATLAB "
                     'rgb2ycbcr on 8-bit, SSIM valid)',
    'prenet_matlab': "PReNet's scripts (truncated 8-bit output, float Y, Wang's ssim.m with "
                     'its downsampling)',
    'basicsr': 'BasicSR (rounded 8-bit output, float Y, SSIM valid)',
    'drsformer_statistic': "DRSformer's DID/DDN statistic.m (rounded 8-bit output, float Y, "
                           "Wang's ssim.m with its downsampling)",
}


@dataclass
class Stat:
    """Mean, sample std and count of one quantity over seeds."""

    mean: float
    std: float = math.nan
    n: int = 1
    decimals: int | None = None   # fewer than the column's: a quoted number's own precision

    def text(self, decimals: int) -> str:
        if math.isnan(self.mean):
            return '–'
        decimals = min(decimals, self.decimals) if self.decimals is not None else decimals
        body = f'{self.mean:.{decimals}f}'
        return f'{body} ± {self.std:.{decimals}f}' if self.n > 1 else body


def signed(value: float, decimals: int) -> str:
    """``+0.12`` / ``−0.05`` (a true minus sign; never ``−0.00``)."""
    return f'{round(value, decimals) + 0.0:+.{decimals}f}'.replace('-', MINUS)


@dataclass
class Delta:
    """Mean paired difference vs the base with its 95% CI; ``*`` when significant."""

    mean: float
    low: float
    high: float
    significant: bool

    def text(self, decimals: int) -> str:
        mean, low, high = (signed(v, decimals) for v in (self.mean, self.low, self.high))
        return f'{mean} [{low}, {high}]' + (SIGNIFICANT_MARK if self.significant else '')


@dataclass
class Column:
    group: str                 # spanning header ('' for none)
    label: str
    values: list               # one Stat, Delta or str per row
    decimals: int = 2
    lower_is_better: bool | None = None   # None: not ranked
    key: tuple[str, str] | None = None    # (test set, metric) of a metric column

    def emphasis(self, ranked: list[bool] | None = None,
                 separated: Callable | None = None) -> list[str]:
        """'best', 'second', 'tied' or '' per row.

        Only rows with ``ranked`` true count, and only when at least ``MIN_RANKED`` do.
        ``separated(testset, metric, a_index, b_index)`` says whether the best row is
        significantly better than the second (None: unknown); when it is not, both are 'tied'.
        """
        out = [''] * len(self.values)
        rows = [i for i, v in enumerate(self.values)
                if isinstance(v, Stat) and not math.isnan(v.mean) and (ranked is None or ranked[i])]
        if self.lower_is_better is None or len(rows) < MIN_RANKED:
            return out
        rounded = {i: round(self.values[i].mean, self.decimals) for i in rows}
        means = sorted(set(rounded.values()), reverse=not self.lower_is_better)
        best = [i for i in rows if rounded[i] == means[0]]
        second = [i for i in rows if len(best) == 1 and len(means) > 1 and rounded[i] == means[1]]
        verdict = (separated(*self.key, best[0], second[0])
                   if separated and self.key and len(best) == 1 and second else None)
        for i in best:
            out[i] = 'tied' if len(best) > 1 or verdict is False else 'best'
        for i in second:
            out[i] = 'tied' if verdict is False else 'second'
        return out


@dataclass
class Row:
    label: str
    cite: str | None = None     # citation key of a quoted row
    reference: bool = False     # never ranked (rainy input, quoted numbers)
    method: str | None = None   # the measured method behind the row (for paired tests)


@dataclass
class Table:
    title: str
    rows: list[Row]
    columns: list[Column]
    notes: list[str] = field(default_factory=list)
    separated: Callable | None = None   # (testset, metric, method a, method b) -> bool | None
    made_by: str = 'python -m analysis table'   # named in the LaTeX header comment

    def marks(self) -> list[list[str]]:
        """Per column, the emphasis of every row (reference rows are never ranked)."""
        ranked = [not r.reference for r in self.rows]

        def by_index(testset, metric, i, j):
            a, b = self.rows[i].method, self.rows[j].method
            return self.separated(testset, metric, a, b) if a and b else None
        check = by_index if self.separated else None
        return [c.emphasis(ranked, check) for c in self.columns]

    @property
    def quoted_start(self) -> int | None:
        """Index of the first quoted row (they form the last block), or None."""
        return next((i for i, r in enumerate(self.rows) if r.cite), None)


def _stat(values: pd.Series) -> Stat:
    values = values.dropna()
    if values.empty:
        return Stat(math.nan)
    return Stat(float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                len(values))


def _metric_columns(df: pd.DataFrame, methods: list[str], metrics: list[str]) -> list[Column]:
    columns = []
    for testset in sorted(df['testset_key'].unique()):
        part = df[df['testset_key'] == testset]
        one_protocol(part, f'test set {testset}')
        for metric in metrics:
            values = [_stat(part.loc[(part['method'] == m) & (part['metric'] == metric), 'value'])
                      for m in methods]
            if all(math.isnan(v.mean) for v in values):
                continue
            columns.append(Column(testset, METRIC_LABELS[metric], values, DECIMALS[metric],
                                  metric in LOWER_IS_BETTER,
                                  key=(str(part['testset'].iloc[0]), metric)))
    return columns


def _delta_columns(columns: list[Column], methods: list[str], paired) -> list[Column]:
    """After each ``DELTA_METRICS`` column, Δ vs base [95% CI] from a ``stats.Paired``."""
    out = []
    for col in columns:
        out.append(col)
        if col.key is None or col.key[1] not in DELTA_METRICS:
            continue
        found = [paired.find(*col.key, BASE, m) for m in methods]
        if any(found):
            cells = [Delta(c.mean_diff, c.ci_low, c.ci_high, c.significant) if c else '–'
                     for c in found]
            out.append(Column(col.group, f'Δ{col.label} [95% CI]', cells, col.decimals))
    return out


def plural(n: int, word: str) -> str:
    """``1 seed``, ``2 seeds``."""
    return f'{n} {word}' + ('' if n == 1 else 's')


def stats_notes(paired, testsets: list[str]) -> list[str]:
    """The footnote: test, correction, number of images and seeds."""
    shown = [c for c in paired.comparisons if c.testset in testsets]
    if not shown:
        return []
    images = ', '.join(f'{t}: {plural(n, "image")}' for t, n in
                       dict.fromkeys((c.testset, c.n_images) for c in shown))
    seeds = sorted({n for c in shown for n in (c.n_seeds_a, c.n_seeds_b)})
    family = max(sum(1 for c in shown if (c.testset, c.metric) == (x.testset, x.metric))
                 for x in shown)
    return [f'Δ: mean paired difference vs base over images ({images}) and '
            f'{plural(seeds[-1], "seed") if len(seeds) == 1 else f"{seeds[0]}–{seeds[-1]} seeds"}'
            f' per method; 95% CI by paired bootstrap ({stats.N_BOOT} resamples of seeds, then '
            f'images; RNG seed {stats.RNG_SEED}). {SIGNIFICANT_MARK}: Wilcoxon signed-rank test '
            f'on per-image differences averaged over seeds, Holm-corrected over '
            f'{plural(family, "comparison")} per test set and metric, p < {stats.ALPHA}, and the '
            f'CI excludes 0. {TIED_MARK}: best and second are not significantly different (same '
            'test, one pair), so neither is marked best.']


def _complexity_columns(df: pd.DataFrame, methods: list[str]) -> list[Column]:
    """Params (in K when every model has fewer than a million, else M) and GMACs, headed by
    the input size they were counted at when all rows share one (``GMACs (256×256)``)."""
    runs = df.drop_duplicates('run_dir')
    small = runs['params'].dropna().lt(1e6).all()
    scale, unit = (1e3, 'K') if small else (1e6, 'M')
    params = [_stat(runs.loc[runs['method'] == m, 'params'] / scale) for m in methods]
    gmacs = [_stat(runs.loc[runs['method'] == m, 'gmacs']) for m in methods]
    for stat in params + gmacs:
        stat.n = 1   # identical across seeds: show the value, not ± 0
    counted = runs.loc[runs['gmacs'].notna(), 'macs_shape'] if 'macs_shape' in runs else ()
    shapes = sorted(set(counted.dropna())) if len(counted) else []
    return [Column('', f'Params ({unit})', params, 1 if small else DECIMALS['params']),
            Column('', f'GMACs ({shapes[0]})' if len(shapes) == 1 else 'GMACs', gmacs,
                   DECIMALS['gmacs'])]


def macs_note(df: pd.DataFrame) -> list[str]:
    """When the MACs were counted at several input sizes: which size per method."""
    runs = df.drop_duplicates('run_dir')
    if 'macs_shape' not in runs or runs['macs_shape'].dropna().nunique() < 2:
        return []
    sizes = runs.dropna(subset=['macs_shape']).groupby('macs_shape')['method'].unique()
    return ['GMACs counted at different input sizes (H×W): ' + '; '.join(
        f'{shape}: {", ".join(ordered(methods))}' for shape, methods in sizes.items()) + '.']


def ordered(methods) -> list[str]:
    """Methods in a stable reading order: the rainy input, the grid's base, then by name."""
    return sorted(dict.fromkeys(methods), key=lambda m: (not is_reference(m), m != BASE,
                                                         m.lower(), m))


def component_mark(label: str) -> str:
    """✓ / ✗ for an on/off axis label, else the label itself."""
    words = set(re.split(r'[^a-z0-9]+', label.lower()))
    if words & OFF_WORDS or label.lower().startswith('w/o'):
        return '✗'
    if words & ON_WORDS:
        return '✓'
    return label


def axis_name(dotted_key: str) -> str:
    """Short header for an axis: ``model.generator.alm.type`` → ``alm``."""
    parts = dotted_key.split('.')
    return parts[-2] if parts[-1] == 'type' and len(parts) > 1 else parts[-1]


def _first(frame: pd.DataFrame, col: str) -> str | None:
    """The first non-null value of ``frame[col]``, or None (also when the column is absent)."""
    values = frame[col].dropna() if col in frame else ()
    return str(values.iloc[0]) if len(values) else None


def axis_cells(chosen: list[str | None], base_label: str) -> list[str]:
    """One axis column: ``chosen`` holds each row's label, None where the row keeps the base.

    An on/off axis (every chosen label reads as ✓ or ✗, e.g. ``w/o ALM``) shows marks, the base
    getting the opposite mark; a multi-choice axis shows the chosen labels and ``base_label``.
    """
    marks = [component_mark(c) for c in chosen if c is not None]
    if not marks or not set(marks) <= {'✓', '✗'}:
        return [base_label if c is None else c for c in chosen]
    default = {frozenset({'✗'}): '✓', frozenset({'✓'}): '✗'}.get(frozenset(marks), base_label)
    return [default if c is None else component_mark(c) for c in chosen]


def ablation_table(df: pd.DataFrame, paired=None) -> Table:
    """Rows = grid variants; one column per axis, params, GMACs, metrics per test set.

    Axis columns follow the grid's axis order, headed by its ``axis_names`` (else ``axis_name``);
    the base's label on a multi-choice axis is its recorded ``base_axes`` label (``base`` for an
    older run.json). With ``paired`` (a ``stats.Paired``) each metric gets a Δ vs base column
    and ties between best and second are marked.
    """
    grid = df[df['source'] == 'grid']
    if grid.empty:
        raise AnalysisError('ablation table: no grid runs (run.json) among the collected results')
    methods = ordered(grid['method'])
    axis_cols = [c for c in grid.columns if c.startswith('axis:') and grid[c].notna().any()]
    rank = {c.removeprefix('base:'): i for i, c in enumerate(c for c in grid.columns
                                                           if c.startswith('base:'))}
    axis_cols.sort(key=lambda c: rank.get(c.removeprefix('axis:'), len(rank)))
    columns = []
    for col in axis_cols:
        key = col.removeprefix('axis:')
        chosen = [_first(grid[grid['method'] == m], col) for m in methods]
        cells = axis_cells(chosen, _first(grid, f'base:{key}') or BASE_LABEL)
        columns.append(Column('', _first(grid, f'axis_name:{key}') or axis_name(key), cells))
    columns += _complexity_columns(grid, methods)
    metric_columns = _metric_columns(grid, methods, metrics_for('ablation'))
    columns += _delta_columns(metric_columns, methods, paired) if paired else metric_columns
    # per test set: grids of several tasks share variant names but not test sets
    seeds = grid.drop_duplicates(['run_dir', 'testset']).groupby(['method', 'testset']).size()
    span = f'{seeds.min()}' if seeds.min() == seeds.max() else f'{seeds.min()}–{seeds.max()}'
    notes = [f'Mean ± std over {span} seeds.' if seeds.max() > 1 else 'Single seed per variant.']
    if paired:
        notes += stats_notes(paired, sorted(grid['testset'].unique()))
    return Table('Ablation', [Row(m, method=m) for m in methods], columns,
                 notes + macs_note(grid) + _mixed_notes(grid),
                 paired.separated if paired else None)


def has_ablation(df: pd.DataFrame) -> bool:
    """Whether the grid runs make an ablation table: not when the grid varies one axis without
    a base run, whose table would only repeat the method comparison (e.g. one model per row).
    An evaluation-protocol axis is no ablation (``protocol_table`` shows it)."""
    grid = df[df['source'] == 'grid']
    axes = [c for c in grid.columns if c.startswith('axis:') and not c.endswith('protocol')
            and grid[c].notna().any()]
    return not grid.empty and (len(axes) != 1 or (grid['method'] == BASE).any())


def load_external(path: Path = EXTERNAL_RESULTS) -> list[dict]:
    """Quoted numbers: entries with ``method``, ``cite`` and ``results[testset][metric]``."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise AnalysisError(f'{path}: cannot read quoted results ({err})') from err
    entries = (data or {}).get('entries')
    if not isinstance(entries, list):
        raise AnalysisError(f'{path}: expected a list under "entries"')
    for i, entry in enumerate(entries):
        for key in ('method', 'cite', 'results'):
            if key not in entry:
                raise AnalysisError(f'{path}: entries[{i}] lacks field {key!r}')
    return entries


def is_reference(method: str) -> bool:
    """The degraded input itself (``Rainy input``, ``Hazy input``, ``Low-light input``): shown for
    reference, never ranked."""
    name = method.strip().lower()
    return name in REFERENCE_METHODS or name.endswith(' input')


def comparison_table(df: pd.DataFrame, external: list[dict], paired=None) -> Table:
    """Our runs, externally evaluated methods and quoted paper numbers on shared test sets.

    Quoted numbers form the last block and, like the rainy input, are never ranked. A quoted
    entry with no number on any shown test set is left out (and named in a note).
    """
    methods = list(dict.fromkeys(ordered(df.loc[df['source'] != 'grid', 'method'])
                                 + ordered(df.loc[df['source'] == 'grid', 'method'])))
    shown = set(df['testset_key'])
    quoted, omitted = [], []
    for entry in (e for e in external if e['method'] not in methods):
        has_value = any(v is not None for testset, metrics in entry['results'].items()
                        if testset in shown for v in (metrics or {}).values())
        (quoted if has_value else omitted).append(entry)
    rows = [Row(m, reference=is_reference(m), method=m) for m in methods]
    rows += [Row(f'{e["method"]}{QUOTED_MARK}', e['cite'], reference=True) for e in quoted]
    quoted_rows = []
    for entry in quoted:
        for testset, metrics in entry['results'].items():
            for metric, value in metrics.items():
                quoted_rows.append({'method': f'{entry["method"]}{QUOTED_MARK}',
                                    'testset_key': testset, 'metric': metric, 'value': value,
                                    'run_dir': f'quoted:{entry["cite"]}:{entry["method"]}',
                                    'params': entry.get('params', math.nan),
                                    'gmacs': entry.get('gmacs', math.nan)})
    merged = pd.concat([df, pd.DataFrame(quoted_rows)], ignore_index=True)
    merged = merged[merged['testset_key'].isin(shown)]
    labels = [r.label for r in rows]
    columns = _complexity_columns(merged, labels)
    columns += _metric_columns(merged, labels, metrics_for('comparison'))
    for col in columns:          # quoted numbers keep the precision papers print them with
        for i in range(len(methods), len(rows)):
            if col.key and isinstance(col.values[i], Stat):
                col.values[i].decimals = QUOTED_DECIMALS.get(col.key[1].split('_')[0])
    notes = [quoted_note(quoted)] if quoted else []
    if omitted:
        names = '; '.join(f'{e["method"]} ({e.get("source", e["cite"])})' for e in omitted)
        notes.append(f'Quoted results without numbers on these test sets are omitted: {names}.')
    if any(r.reference for r in rows[:len(methods)]):
        notes.append('The rainy input is a reference row, not ranked.')
    table = Table('Method comparison', rows, columns, notes, paired.separated if paired else None)
    if any('tied' in marks for marks in table.marks()):
        table.notes.append(f'{TIED_MARK}: best and second are not significantly different '
                           f'(Wilcoxon signed-rank test on paired per-image scores and 95% '
                           f'bootstrap CI, p < {stats.ALPHA}).')
    table.notes += macs_note(df) + _mixed_notes(df)
    return table


def quoted_note(quoted: list[dict]) -> str:
    """The † footnote: each source once, with the methods quoted from it and its protocol."""
    by_source: dict[tuple, list[str]] = {}
    for e in quoted:
        key = (e.get('source', e['cite']), e.get('protocol'))
        by_source.setdefault(key, []).append(e['method'])
    parts = [f'{", ".join(names)}: {source}; '
             + (f'evaluated with {protocol_words(proto)}' if proto
                else 'as evaluated in the paper')
             for (source, proto), names in by_source.items()]
    return (f'{QUOTED_MARK} quoted, not re-evaluated here and not ranked. '
            + ' — '.join(parts) + '.')


def _mixed_notes(df: pd.DataFrame) -> list[str]:
    """The evaluation protocol(s) of the table, then, per test set scored in several ways, what
    differs between its columns."""
    protocols = df.groupby('protocol')['testset'].unique() if 'protocol' in df else {}
    notes = [f'Evaluation protocol ({", ".join(sorted(t))}): {protocol_words(p)}.'
             for p, t in protocols.items()]
    for testset in sorted(df.loc[df['mixed'], 'testset'].unique()):
        groups = df.loc[df['testset'] == testset, ['dataset_hash', 'conventions']]
        groups = groups.drop_duplicates()
        convs = [json.loads(c) for c in groups['conventions']]
        parts = [f'{k} ({" / ".join(dict.fromkeys(str(c.get(k)) for c in convs))})'
                 for k in differing_conventions(convs)]
        hashes = list(dict.fromkeys(groups['dataset_hash']))
        if len(hashes) > 1:
            parts.append('the ground truth (' + ', '.join(
                f'{i} = dataset hash {h[:12]}' for i, h in enumerate(hashes, 1)) + ')')
        notes.append(f'{testset}: results scored differently are listed as separate columns; '
                     f'they differ in {"; ".join(parts)}.')
    return notes


# ---------------------------------------------------------------- rendering
LATEX_SPECIALS = {'&': r'\&', '%': r'\%', '$': r'\$', '#': r'\#', '_': r'\_', '{': r'\{',
                  '}': r'\}', '~': r'\textasciitilde{}', '^': r'\^{}', '\\': r'\textbackslash{}',
                  '✓': r'\checkmark', '✗': r'$\times$', '±': r'$\pm$', '×': r'$\times$', '–': '--',
                  QUOTED_MARK: r'$^\dagger$', TIED_MARK: r'$\approx$', 'Δ': r'$\Delta$',
                  MINUS: '$-$'}
QUOTED_HEADER = 'Quoted from papers (not re-evaluated here, not ranked)'


def protocol_title(label: str) -> str:
    """A column header for a protocol: ``PReNet's scripts``, ``BasicSR, crop 4``."""
    name, _, crop = label.partition(' crop ')
    return PROTOCOL_TITLES.get(name, name) + (f', crop {crop}' if crop else '')


def protocol_words(label: str) -> str:
    """``prenet_matlab`` → ``prenet_matlab: PReNet's scripts (...)``; ``basicsr crop 4`` keeps
    its crop; an unknown name stays as it is."""
    name, _, crop = label.partition(' crop ')
    words = PROTOCOL_WORDS.get(name)
    text = f'{name}: {words}' if words else name
    return text + (f', {crop}-pixel border cropped' if crop else '')


def latex_escape(text: str) -> str:
    return ''.join(LATEX_SPECIALS.get(ch, ch) for ch in str(text))


def cell_text(value, column: Column) -> str:
    return value.text(column.decimals) if isinstance(value, Stat | Delta) else str(value)


def column_groups(table: Table) -> list[tuple[str, int, int]]:
    """(group, first column index, span) for consecutive columns sharing a group."""
    spans = []
    for i, col in enumerate(table.columns):
        if spans and spans[-1][0] == col.group:
            spans[-1] = (col.group, spans[-1][1], spans[-1][2] + 1)
        else:
            spans.append((col.group, i, 1))
    return spans


def to_latex(table: Table) -> str:
    """A booktabs ``tabular`` (needs ``booktabs`` and ``amssymb``), with a caption comment."""
    marks = {'best': r'\textbf{%s}', 'second': r'\underline{%s}', '': '%s',
             'tied': r'%s\,' + latex_escape(TIED_MARK)}
    lines = [f'% {table.title}: generated by `{table.made_by}`; do not edit by hand.',
             r'\begin{tabular}{l' + 'c' * len(table.columns) + '}', r'\toprule']
    spans = column_groups(table)
    if any(group for group, _, _ in spans):
        head = ['']
        rules = []
        for group, start, span in spans:
            if group:
                head.append(rf'\multicolumn{{{span}}}{{c}}{{{latex_escape(group)}}}')
                rules.append(rf'\cmidrule(lr){{{start + 2}-{start + span + 1}}}')
            else:
                head += [''] * span
        lines += [' & '.join(head) + r' \\', ' '.join(rules)]
    lines.append(' & '.join(['Method'] + [latex_escape(c.label) for c in table.columns]) + r' \\')
    lines.append(r'\midrule')
    emphasis = table.marks()
    for i, row in enumerate(table.rows):
        if i == table.quoted_start:
            lines += [r'\midrule', rf'\multicolumn{{{len(table.columns) + 1}}}{{l}}'
                                   rf'{{\emph{{{QUOTED_HEADER}}}}} \\']
        label = latex_escape(row.label) + (rf'~\cite{{{row.cite}}}' if row.cite else '')
        cells = [marks[emphasis[j][i]] % latex_escape(cell_text(c.values[i], c))
                 for j, c in enumerate(table.columns)]
        lines.append(' & '.join([label] + cells) + r' \\')
    lines += [r'\bottomrule', r'\end{tabular}']
    lines += [f'% {note}' for note in table.notes]
    return '\n'.join(lines) + '\n'


def to_markdown(table: Table) -> str:
    marks = {'best': '**%s**', 'second': '<u>%s</u>', '': '%s', 'tied': '%s ' + TIED_MARK}
    header = ['Method'] + [f'{c.group} {c.label}'.strip() for c in table.columns]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    emphasis = table.marks()
    for i, row in enumerate(table.rows):
        if i == table.quoted_start:
            lines.append(f'| *{QUOTED_HEADER}* |' + ' |' * len(table.columns))
        label = row.label + (f' [{row.cite}]' if row.cite else '')
        cells = [marks[emphasis[j][i]] % cell_text(c.values[i], c)
                 for j, c in enumerate(table.columns)]
        lines.append('| ' + ' | '.join([label] + cells) + ' |')
    return '\n'.join(lines + [''] + [f'_{n}_' for n in table.notes]) + '\n'


def to_csv(table: Table) -> str:
    """Machine-readable: mean, std, n and emphasis per ranked cell; diff, CI, significance per Δ."""
    records = []
    emphasis = table.marks()
    for i, row in enumerate(table.rows):
        rec = {'method': row.label, 'cite': row.cite or '',
               'block': 'quoted' if row.cite else 'measured', 'reference': row.reference}
        for j, col in enumerate(table.columns):
            name = f'{col.group} {col.label}'.strip()
            value = col.values[i]
            if isinstance(value, Stat):
                rec.update({f'{name} mean': value.mean, f'{name} std': value.std,
                            f'{name} n': value.n})
                if col.lower_is_better is not None:
                    rec[f'{name} emphasis'] = emphasis[j][i]
            elif isinstance(value, Delta):
                rec.update({f'{name} diff': value.mean, f'{name} ci_low': value.low,
                            f'{name} ci_high': value.high,
                            f'{name} significant': value.significant})
            else:
                rec[name] = value
        records.append(rec)
    buf = io.StringIO()
    pd.DataFrame(records).to_csv(buf, index=False)
    return buf.getvalue()


RENDERERS = {'tex': to_latex, 'md': to_markdown, 'csv': to_csv}


def zoo_complexity_table(report: dict) -> Table:
    """The zoo's complexity table from ``danet.benchmarks.zoo.zoo_complexity``'s report (read,
    never measured, here): one row per model, by name."""
    rows = sorted(report['rows'], key=lambda r: r['label'])
    height, width = report['shape']
    size = f'{height}×{width}'
    columns = [Column('', 'Params (M)', [Stat(r['params'] / 1e6) for r in rows], 3),
               Column('', f'GMACs ({size})', [Stat(r['gmacs']) for r in rows], 1),
               Column('', 'of which matmul', [Stat(r['matmul_gmacs']) for r in rows], 1),
               Column('', f'CPU ms ({size})', [Stat(r['latency_ms']) for r in rows], 0)]
    notes = [f'MACs at 1×3×{size} (fvcore; convolutions, linear layers, norms and attention '
             'matrix products counted; softmax, activations and top-k selection not; masked '
             'top-k products counted dense). CPU latency: eval, no_grad, fp32, batch 1, median '
             f'of {report["repeats"]} runs after {report["warmup"]} warm-up, all models '
             f'interleaved in one process, {report["threads"]} thread(s), torch '
             f'{report["torch"]}, load average {report["load_start"]:.1f}–'
             f'{report["load_end"]:.1f}.']
    return Table(f'Complexity of the zoo at {size}', [Row(r['label']) for r in rows], columns,
                 notes, made_by="python tools/zoo_complexity.py; python -m analysis complexity")
