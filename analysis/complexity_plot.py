"""``python -m analysis complexity-plot ZOO_JSON WORK_DIR ... --out STEM``: PSNR vs MACs of the zoo.

``ZOO_JSON`` is the ``zoo_complexity.json`` that ``tools/zoo_complexity.py`` writes (every model's
parameters and MACs at one named size, attention matrix products counted). Each run with results
under ``WORK_DIR`` is placed at the MACs and parameters of its table row, so every point is counted
at the same size; a run is matched to a row by its ``complexity.json`` (generator class and
parameter count; every run of ``tools/test.py`` and of a grid's ``macs`` stage writes one). Runs
that match no row are left out and named. The figure is ``plots.bubble`` (one panel per test set,
bubble area ∝ parameters), labelled with the table's model names.
"""
from pathlib import Path

import matplotlib.pyplot as plt

from analysis import plots, store, tables
from analysis.style import RC, method_colors, save
from danet.utils.fileio import atomic_write_text


def read_zoo(path: Path) -> dict:
    """The complexity table's JSON; ``AnalysisError`` naming the file when it is not one."""
    zoo = store.read_json(Path(path))
    rows = zoo.get('rows') if isinstance(zoo, dict) else None
    if not isinstance(rows, list) or not isinstance(zoo.get('shape'), list) or not all(
            isinstance(r, dict) and {'label', 'model', 'params', 'gmacs'} <= set(r)
            for r in rows):
        raise store.AnalysisError(f'{path}: not a zoo complexity table (expected "shape" and '
                                  '"rows" with label, model, params, gmacs; '
                                  'tools/zoo_complexity.py writes one)')
    return zoo


def write_tables(zoo_json: Path) -> list[Path]:
    """``zoo_complexity.{md,csv,tex}`` beside ``zoo_json`` (each written atomically)."""
    zoo_json = Path(zoo_json)
    table = tables.zoo_complexity_table(read_zoo(zoo_json))
    paths = []
    for suffix, render in tables.RENDERERS.items():
        paths.append(zoo_json.with_suffix(f'.{suffix}'))
        atomic_write_text(paths[-1], render(table))
    return paths


def placed_runs(zoo: dict, runs: list[store.Run]) -> tuple[list[tuple], list[str]]:
    """``(run, row)`` for each run whose ``complexity.json`` names a table row's generator class
    and parameter count, and one line per run left out."""
    index = {(row['model'], row['params']): row for row in zoo['rows']}
    placed, left_out = [], []
    for run in runs:
        key = (run.complexity.get('model'), run.complexity.get('params'))
        row = index.get(key)
        if row is None:
            why = ('no complexity.json' if not run.complexity else
                   f'{key[0]} with {key[1]} parameters is no row of the table')
            left_out.append(f'{run.path}: {why}')
        else:
            placed.append((run, row))
    return placed, left_out


def complexity_plot(zoo_json: Path, work_dirs: list[Path], out_stem: Path,
                    metric: str = 'psnr_y', layout: str = 'double') -> list[Path]:
    """Write ``out_stem``.pdf/.png; print the runs left out; return the paths."""
    zoo = read_zoo(zoo_json)
    placed, left_out = placed_runs(zoo, store.discover_runs(work_dirs))
    for line in left_out:
        print(f'[analysis] leaving out {line}')
    if not placed:
        raise store.AnalysisError(f'no run under {", ".join(map(str, work_dirs))} is a model of '
                                  f'{zoo_json} ({len(left_out)} left out)')
    for run, row in placed:   # the table's name, with the grid variant when not the base
        run.label = row['label'] if run.method == store.BASE or not run.meta else \
            f'{row["label"]} / {run.method}'
    df = store.tidy([run for run, _ in placed])
    row_of = {str(run.path): row for run, row in placed}
    df['gmacs'] = [float(row_of[d]['gmacs']) for d in df['run_dir']]
    df['params'] = [float(row_of[d]['params']) for d in df['run_dir']]
    df['macs_shape'] = store.macs_shape(zoo)
    with plt.rc_context(RC):
        return save(plots.bubble(df, method_colors(df['method']), metric, layout),
                    Path(out_stem))
