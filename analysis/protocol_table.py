"""What the evaluation protocol does to the same numbers: one row per model and test set, one
column group per protocol, the published value beside.

A model is a run's method without its protocol: the grid axes whose key ends in ``protocol``
(e.g. ``test_evaluator.0.metrics.0.protocol``) are dropped from its label, so the cells of a
grid that re-scores models under other protocols line up with the grid that scored them first.
Published values come from ``external_results.yaml`` entries with ``measured_as: <model>``.
"""
import math

import pandas as pd

from analysis import tables
from analysis.tables import Column, Row, Stat, Table
from danet.evaluation.metric_table import metrics_for

MEASURED_DECIMALS = {'psnr_y': 3}   # protocols move PSNR by hundredths of a dB


def with_models(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a ``model`` column: the method's axis labels without protocol axes."""
    axis_cols = [c for c in df.columns if c.startswith('axis:') and not c.endswith('protocol')
                 and df[c].notna().any()]
    has_axes = [c for c in df.columns if c.startswith('axis:') and df[c].notna().any()]

    def model(row) -> str:
        if not any(pd.notna(row[c]) for c in has_axes):
            return row['method']
        return ' / '.join(str(row[c]) for c in axis_cols if pd.notna(row[c])) or 'base'
    return df.assign(model=df.apply(model, axis=1) if len(df) else [])


def has_protocol_comparison(df: pd.DataFrame) -> bool:
    """Whether some model was scored on one test set under two or more protocols."""
    if df.empty or 'protocol' not in df:
        return False
    counts = with_models(df).groupby(['model', 'testset'])['protocol'].nunique()
    return bool((counts > 1).any())


def protocol_table(df: pd.DataFrame, external: list[dict]) -> Table:
    """Rows: model × test set; columns: the published values (when quoted), then one group per
    protocol, of the metrics the metric table shows in ``protocol`` (PSNR, SSIM). Nothing is
    ranked: the table compares conventions, not methods."""
    df = with_models(df)
    metrics = metrics_for('protocol')
    pairs = sorted({(t, m) for t, m in zip(df['testset'], df['model'], strict=True)},
                   key=lambda p: (p[0], tables.ordered(df['model']).index(p[1])))
    quoted = {e['measured_as']: e for e in external if e.get('measured_as')}
    used = [quoted[m] for m in dict.fromkeys(m for _, m in pairs) if m in quoted]
    columns = [Column('', 'Test set', [t for t, _ in pairs])]
    if used:
        for metric in metrics:
            values = []
            for testset, model in pairs:
                value = (quoted.get(model, {}).get('results', {}).get(testset) or {}).get(metric)
                values.append(Stat(math.nan if value is None else float(value),
                                   decimals=tables.QUOTED_DECIMALS.get(metric.split('_')[0])))
            columns.append(Column(f'Published{tables.QUOTED_MARK}',
                                  tables.METRIC_LABELS[metric], values, tables.DECIMALS[metric]))
    protocols = sorted(df['protocol'].dropna().unique(),
                       key=lambda p: (p not in {e.get('protocol') for e in used}, p))
    for protocol in protocols:
        part = df[df['protocol'] == protocol]
        for metric in metrics:
            values = []
            for testset, model in pairs:
                found = part.loc[(part['testset'] == testset) & (part['model'] == model)
                                 & (part['metric'] == metric), 'value'].dropna()
                values.append(Stat(float(found.mean()) if len(found) else math.nan))
            columns.append(Column(tables.protocol_title(protocol), tables.METRIC_LABELS[metric],
                                  values, MEASURED_DECIMALS.get(metric, tables.DECIMALS[metric])))
    notes = ([tables.quoted_note(used)] if used else []) + [
        f'{tables.protocol_title(p)} = {tables.protocol_words(p)}.' for p in protocols]
    notes.append('The same model outputs scored under each protocol (mean over the test set; '
                 'not ranked: the columns compare scoring conventions, not methods). '
                 '– : not scored under that protocol.')
    return Table('What the evaluation protocol does', [Row(m, method=m) for _, m in pairs],
                 columns, notes)
