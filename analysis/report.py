"""One folder with everything: tidy CSV, tables, plots, comparison figure, HTML page, Markdown."""
import html
from pathlib import Path

from analysis import figures, plots, store, tables
from analysis.style import method_colors
from danet.utils.fileio import atomic_write_text

HTML_MARKS = {'best': '<b>%s</b>', 'second': '<u>%s</u>', '': '%s'}
CSS = ('body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}'
       'table{border-collapse:collapse;margin:1em 0}th,td{padding:4px 8px;text-align:center}'
       'thead{border-top:2px solid #000;border-bottom:1px solid #000}'
       'tbody{border-bottom:2px solid #000}td:first-child{text-align:left}'
       'img{max-width:100%;border:1px solid #ddd;margin:.5em 0}.note{color:#555;font-size:90%}')


def to_html(table: tables.Table) -> str:
    head = ''.join(f'<th>{html.escape(f"{c.group} {c.label}".strip())}</th>'
                   for c in table.columns)
    emphasis = [c.emphasis() for c in table.columns]
    body = []
    for i, row in enumerate(table.rows):
        label = html.escape(row.label) + (f' [{html.escape(row.cite)}]' if row.cite else '')
        cells = ''.join('<td>' + HTML_MARKS[emphasis[j][i]]
                        % html.escape(tables._cell_text(c.values[i], c)) + '</td>'
                        for j, c in enumerate(table.columns))
        body.append(f'<tr><td>{label}</td>{cells}</tr>')
    notes = ''.join(f'<p class="note">{html.escape(n)}</p>' for n in table.notes)
    return (f'<h2>{html.escape(table.title)}</h2><table><thead><tr><th>Method</th>{head}</tr>'
            f'</thead><tbody>{"".join(body)}</tbody></table>{notes}')


def write_tables(df, out_dir: Path,
                 external_path=tables.EXTERNAL_RESULTS) -> dict[str, tables.Table]:
    """ablation (when grid runs exist) and comparison tables as .tex, .md and .csv."""
    built = {}
    if (df['source'] == 'grid').any():
        built['ablation'] = tables.ablation_table(df)
    built['comparison'] = tables.comparison_table(df, tables.load_external(external_path))
    for name, table in built.items():
        for ext, render in tables.RENDERERS.items():
            atomic_write_text(out_dir / f'{name}.{ext}', render(table))
    return built


def saved_image_dirs(runs: list[store.Run], testset: str) -> dict[str, Path]:
    """Per method, the first run's folder of saved outputs for ``testset`` (``**/<testset>/``)."""
    found = {}
    for run in runs:
        if run.method in found:
            continue
        for folder in sorted(run.path.glob(f'**/{testset}')):
            if folder.is_dir() and 'results' not in folder.parts and figures.image_files(folder):
                found[run.method] = folder
                break
    return found


def build_report(work_dirs, out_dir, external_path=tables.EXTERNAL_RESULTS, gt=None, rainy=None,
                 methods: dict | None = None, testset: str | None = None) -> Path:
    """Write the whole report under ``out_dir``; return the HTML page's path."""
    out_dir = Path(out_dir)
    print(f'[analysis] report 1/5: collecting results from {", ".join(map(str, work_dirs))}')
    runs = store.discover_runs(work_dirs)
    df = store.tidy(runs)
    atomic_write_text(out_dir / 'results_tidy.csv', df.to_csv(index=False))
    print('[analysis] report 2/5: tables')
    built = write_tables(df, out_dir, external_path)
    print('[analysis] report 3/5: plots')
    colors = method_colors(df['method'])
    made = plots.write_all(df, store.per_image(runs), store.training_curves(runs),
                           out_dir / 'plots', colors)
    print('[analysis] report 4/5: comparison figure')
    if gt:
        testset = testset or df['testset'].iloc[0]
        folders = {**saved_image_dirs(runs, testset), **(methods or {})}
        if folders:
            made += figures.write_figure(out_dir / 'figures' / f'comparison_{testset}', gt_dir=gt,
                                         methods=folders, rainy_dir=rainy, error_maps=True)
    pngs = [p for p in made if p.suffix == '.png']
    print('[analysis] report 5/5: HTML page and Markdown summary')
    write_markdown(out_dir / 'summary.md', df, built, pngs, out_dir)
    page = out_dir / 'index.html'
    images = ''.join(f'<h3>{html.escape(p.stem.replace("_", " "))}</h3>'
                     f'<img src="{html.escape(p.relative_to(out_dir).as_posix())}" '
                     f'alt="{html.escape(p.stem)}">' for p in pngs)
    atomic_write_text(page, f'<!DOCTYPE html><html><head><meta charset="utf-8">'
                            f'<title>Results report</title><style>{CSS}</style></head><body>'
                            f'<h1>Results report</h1><p>{html.escape(_overview(df))}</p>'
                            + ''.join(to_html(t) for t in built.values())
                            + f'<h2>Plots and figures</h2>{images}</body></html>\n')
    return page


def _overview(df) -> str:
    """``N runs, M methods, test sets: ...``, the opening line of the page and the summary."""
    runs = df.drop_duplicates('run_dir')
    return (f'{len(runs)} runs, {runs["method"].nunique()} methods, test sets: '
            f'{", ".join(sorted(df["testset_key"].unique()))}.')


def write_markdown(path: Path, df, built: dict, pngs: list[Path], out_dir: Path) -> None:
    parts = ['# Results summary', '', _overview(df), '']
    for table in built.values():
        parts += [f'## {table.title}', '', tables.to_markdown(table)]
    parts += ['## Plots and figures', '']
    parts += [f'![{p.stem}]({p.relative_to(out_dir).as_posix()})' for p in pngs]
    atomic_write_text(path, '\n'.join(parts) + '\n')
