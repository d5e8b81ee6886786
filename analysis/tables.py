"""Paper-style tables (LaTeX booktabs, Markdown, CSV) from the tidy results table.

Cells hold mean ± std over seeds; in every ranked column the best value is bold and the
second best underlined. Quoted numbers come from ``external_results.yaml`` and are marked.
"""
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from analysis.store import AnalysisError, one_protocol
from danet.evaluation.metric_table import METRIC_TABLE
from danet.evaluation.protocols import DEFAULT_PROTOCOL

EXTERNAL_RESULTS = Path(__file__).with_name('external_results.yaml')
METRIC_LABELS = {key: m.label for key, m in METRIC_TABLE.items()}
DECIMALS = {**{key: m.decimals for key, m in METRIC_TABLE.items()}, 'params': 3, 'gmacs': 2}
OFF_WORDS = {'off', 'none', 'no', 'false', 'without', 'disabled', 'identity', 'wo'}
ON_WORDS = {'on', 'yes', 'true', 'with', 'enabled', 'full'}
QUOTED_MARK = '†'
BASE_LABEL = 'base'   # the base's choice when run.json predates ``base_axes``


@dataclass
class Stat:
    """Mean, sample std and count of one quantity over seeds."""

    mean: float
    std: float = math.nan
    n: int = 1

    def text(self, decimals: int) -> str:
        if math.isnan(self.mean):
            return '–'
        body = f'{self.mean:.{decimals}f}'
        return f'{body} ± {self.std:.{decimals}f}' if self.n > 1 else body


@dataclass
class Column:
    group: str                 # spanning header ('' for none)
    label: str
    values: list               # one Stat or str per row
    decimals: int = 2
    lower_is_better: bool | None = None   # None: not ranked

    def emphasis(self) -> list[str]:
        """'best', 'second' or '' per row."""
        out = [''] * len(self.values)
        if self.lower_is_better is None:
            return out
        means = sorted({round(v.mean, self.decimals) for v in self.values
                        if isinstance(v, Stat) and not math.isnan(v.mean)},
                       reverse=not self.lower_is_better)
        for i, v in enumerate(self.values):
            if isinstance(v, Stat) and not math.isnan(v.mean):
                rounded = round(v.mean, self.decimals)
                out[i] = 'best' if rounded == means[0] else (
                    'second' if len(means) > 1 and rounded == means[1] else '')
        return out


@dataclass
class Row:
    label: str
    cite: str | None = None     # citation key of a quoted row


@dataclass
class Table:
    title: str
    rows: list[Row]
    columns: list[Column]
    notes: list[str] = field(default_factory=list)


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
                                  not METRIC_TABLE[metric].higher_is_better))
    return columns


def _complexity_columns(df: pd.DataFrame, methods: list[str]) -> list[Column]:
    runs = df.drop_duplicates('run_dir')
    params = [_stat(runs.loc[runs['method'] == m, 'params'] / 1e6) for m in methods]
    gmacs = [_stat(runs.loc[runs['method'] == m, 'gmacs']) for m in methods]
    for stat in params + gmacs:
        stat.n = 1   # identical across seeds: show the value, not ± 0
    return [Column('', 'Params (M)', params, DECIMALS['params']),
            Column('', 'GMACs', gmacs, DECIMALS['gmacs'])]


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


def ablation_table(df: pd.DataFrame) -> Table:
    """Rows = grid variants; one column per axis, params, GMACs, metrics per test set.

    Axis columns follow the grid's axis order, headed by its ``axis_names`` (else ``axis_name``);
    the base's label on a multi-choice axis is its recorded ``base_axes`` label (``base`` for an
    older run.json).
    """
    grid = df[df['source'] == 'grid']
    if grid.empty:
        raise AnalysisError('ablation table: no grid runs (run.json) among the collected results')
    methods = list(dict.fromkeys(grid['method']))
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
    columns += _metric_columns(grid, methods, ['psnr_y', 'ssim_y', 'lpips_alex'])
    seeds = grid.drop_duplicates('run_dir').groupby('method')['run_dir'].count()
    span = f'{seeds.min()}' if seeds.min() == seeds.max() else f'{seeds.min()}–{seeds.max()}'
    notes = [f'Mean ± std over {span} seeds.' if seeds.max() > 1 else 'Single seed per variant.']
    return Table('Ablation', [Row(m) for m in methods], columns, notes + _mixed_notes(grid))


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


def comparison_table(df: pd.DataFrame, external: list[dict]) -> Table:
    """Our runs, externally evaluated methods and quoted paper numbers on shared test sets.

    A quoted entry with no number on any shown test set is left out (and named in a note), and
    so is a quoted number whose ``protocol`` (default ``mprnet_matlab``) differs from the
    protocol of the measured results in that column.
    """
    methods = list(dict.fromkeys(df.sort_values('source', kind='stable')['method']))
    shown = set(df['testset_key'])
    measured = (df.dropna(subset=['protocol']).groupby('testset_key')['protocol'].first()
                .to_dict() if 'protocol' in df else {})
    quoted, omitted, other_protocol = [], [], []
    for entry in (e for e in external if e['method'] not in methods):
        protocol = entry.get('protocol', DEFAULT_PROTOCOL)
        clash = [t for t in entry['results'] if measured.get(t, protocol).split(' ')[0] != protocol]
        if clash:
            other_protocol.append(f'{entry["method"]} ({protocol}; {", ".join(clash)})')
        entry = dict(entry, results={t: m for t, m in entry['results'].items() if t not in clash})
        has_value = any(v is not None for testset, metrics in entry['results'].items()
                        if testset in shown for v in (metrics or {}).values())
        (quoted if has_value else omitted).append(entry)
    rows = [Row(m) for m in methods] + [Row(f'{e["method"]}{QUOTED_MARK}', e['cite'])
                                        for e in quoted]
    quoted_rows = []
    for entry in quoted:
        for testset, metrics in entry['results'].items():
            for metric, value in metrics.items():
                quoted_rows.append({'method': f'{entry["method"]}{QUOTED_MARK}',
                                    'testset_key': testset, 'metric': metric, 'value': value,
                                    'run_dir': f'quoted:{entry["cite"]}',
                                    'params': entry.get('params', math.nan),
                                    'gmacs': entry.get('gmacs', math.nan)})
    merged = pd.concat([df, pd.DataFrame(quoted_rows)], ignore_index=True)
    merged = merged[merged['testset_key'].isin(shown)]
    labels = [r.label for r in rows]
    columns = _complexity_columns(merged, labels)
    columns += _metric_columns(merged, labels, ['psnr_y', 'ssim_y'])
    notes = [f'{QUOTED_MARK} quoted from the cited paper, not re-evaluated here.'] if quoted else []
    if omitted:
        names = ', '.join(f'{e["method"]} [{e["cite"]}]' for e in omitted)
        notes.append(f'Quoted results without numbers on these test sets are omitted: {names}.')
    if other_protocol:
        notes.append('Quoted numbers under another evaluation protocol than the measured ones '
                     f'are omitted: {"; ".join(other_protocol)}.')
    return Table('Method comparison', rows, columns, notes + _mixed_notes(df))


def _mixed_notes(df: pd.DataFrame) -> list[str]:
    """The evaluation protocol(s) of the table, then the test sets split by data/conventions."""
    protocols = df.groupby('protocol')['testset'].unique() if 'protocol' in df else {}
    notes = [f'Evaluation protocol: {p} ({", ".join(sorted(t))}).' for p, t in protocols.items()]
    mixed = sorted(df.loc[df['mixed'], 'testset'].unique())
    return notes + [f'{t}: results come from different data or metric conventions and are '
                    'listed as separate columns.' for t in mixed]


# ---------------------------------------------------------------- rendering
LATEX_SPECIALS = {'&': r'\&', '%': r'\%', '$': r'\$', '#': r'\#', '_': r'\_', '{': r'\{',
                  '}': r'\}', '~': r'\textasciitilde{}', '^': r'\^{}', '\\': r'\textbackslash{}',
                  '✓': r'\checkmark', '✗': r'$\times$', '±': r'$\pm$', '–': '--',
                  QUOTED_MARK: r'$^\dagger$'}


def latex_escape(text: str) -> str:
    return ''.join(LATEX_SPECIALS.get(ch, ch) for ch in str(text))


def _cell_text(value, column: Column) -> str:
    return value.text(column.decimals) if isinstance(value, Stat) else str(value)


def _groups(table: Table) -> list[tuple[str, int, int]]:
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
    marks = {'best': r'\textbf{%s}', 'second': r'\underline{%s}', '': '%s'}
    lines = [f'% {table.title}: generated by `python -m analysis table`; do not edit by hand.',
             r'\begin{tabular}{l' + 'c' * len(table.columns) + '}', r'\toprule']
    spans = _groups(table)
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
    emphasis = [c.emphasis() for c in table.columns]
    for i, row in enumerate(table.rows):
        label = latex_escape(row.label) + (rf'~\cite{{{row.cite}}}' if row.cite else '')
        cells = [marks[emphasis[j][i]] % latex_escape(_cell_text(c.values[i], c))
                 for j, c in enumerate(table.columns)]
        lines.append(' & '.join([label] + cells) + r' \\')
    lines += [r'\bottomrule', r'\end{tabular}']
    lines += [f'% {note}' for note in table.notes]
    return '\n'.join(lines) + '\n'


def to_markdown(table: Table) -> str:
    marks = {'best': '**%s**', 'second': '<u>%s</u>', '': '%s'}
    header = ['Method'] + [f'{c.group} {c.label}'.strip() for c in table.columns]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    emphasis = [c.emphasis() for c in table.columns]
    for i, row in enumerate(table.rows):
        label = row.label + (f' [{row.cite}]' if row.cite else '')
        cells = [marks[emphasis[j][i]] % _cell_text(c.values[i], c)
                 for j, c in enumerate(table.columns)]
        lines.append('| ' + ' | '.join([label] + cells) + ' |')
    return '\n'.join(lines + [''] + [f'_{n}_' for n in table.notes]) + '\n'


def to_csv(table: Table) -> str:
    """Machine-readable: mean, std, n and emphasis per ranked cell."""
    records = []
    for i, row in enumerate(table.rows):
        rec = {'method': row.label, 'cite': row.cite or ''}
        for col in table.columns:
            name = f'{col.group} {col.label}'.strip()
            value = col.values[i]
            if isinstance(value, Stat):
                rec.update({f'{name} mean': value.mean, f'{name} std': value.std,
                            f'{name} n': value.n})
                if col.lower_is_better is not None:
                    rec[f'{name} emphasis'] = col.emphasis()[i]
            else:
                rec[name] = value
        records.append(rec)
    buf = io.StringIO()
    pd.DataFrame(records).to_csv(buf, index=False)
    return buf.getvalue()


RENDERERS = {'tex': to_latex, 'md': to_markdown, 'csv': to_csv}
