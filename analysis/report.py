"""One folder with everything: tidy CSV, tables, statistics, plots, comparison figure, HTML page,
Markdown summary."""
import html
import math
from pathlib import Path

from analysis import figures, plots, stats, store, tables
from analysis.style import method_colors
from analysis.tables import DECIMALS, plural, signed
from danet.utils.fileio import atomic_write_text

HTML_MARKS = {'best': '<b>%s</b>', 'second': '<u>%s</u>', '': '%s',
              'tied': '%s ' + tables.TIED_MARK}
TWINS = (('tex', 'LaTeX'), ('csv', 'CSV'), ('md', 'Markdown'))
MIN_WILCOXON_IMAGES = 6   # two-sided exact signed-rank p >= 2/2^n: below 0.05 needs n >= 6
CSS = ('body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}'
       'table{border-collapse:collapse;margin:1em 0}th,td{padding:4px 8px;text-align:center}'
       'thead{border-top:2px solid #000;border-bottom:1px solid #000}'
       'tbody{border-bottom:2px solid #000}td:first-child{text-align:left}'
       'img{max-width:100%;border:1px solid #ddd;margin:.5em 0}.note{color:#555;font-size:90%}'
       'td{white-space:nowrap}')


def to_html(table: tables.Table, stem: str | None = None, references: list[str] = ()) -> str:
    """The table; citations become numbered links into ``references`` (cite keys, in order);
    with ``stem``, links to the table's LaTeX, CSV and Markdown files."""
    head = ''.join(f'<th>{html.escape(f"{c.group} {c.label}".strip())}</th>'
                   for c in table.columns)
    emphasis = table.marks()
    body = []
    for i, row in enumerate(table.rows):
        if i == table.quoted_start:
            body.append(f'<tr class="block"><td colspan="{len(table.columns) + 1}">'
                        f'<i>{html.escape(tables.QUOTED_HEADER)}</i></td></tr>')
        label = html.escape(row.label)
        if row.cite in references:
            n = list(references).index(row.cite) + 1
            label += f' <a href="#ref-{n}">[{n}]</a>'
        cells = ''.join('<td>' + HTML_MARKS[emphasis[j][i]]
                        % html.escape(tables._cell_text(c.values[i], c)) + '</td>'
                        for j, c in enumerate(table.columns))
        body.append(f'<tr><td>{label}</td>{cells}</tr>')
    notes = ''.join(f'<p class="note">{html.escape(n)}</p>' for n in table.notes)
    links = ('<p class="note">Also as ' + ' · '.join(
        f'<a href="{stem}.{ext}">{name}</a>' for ext, name in TWINS) + '</p>') if stem else ''
    return (f'<h2>{html.escape(table.title)}</h2><table><thead><tr><th>Method</th>{head}</tr>'
            f'</thead><tbody>{"".join(body)}</tbody></table>{notes}{links}')


def write_tables(df, out_dir: Path, external_path=tables.EXTERNAL_RESULTS,
                 paired: stats.Paired | None = None) -> dict[str, tables.Table]:
    """ablation (when grid runs exist) and comparison tables as .tex, .md and .csv."""
    built = {}
    if (df['source'] == 'grid').any():
        built['ablation'] = tables.ablation_table(df, paired)
    built['comparison'] = tables.comparison_table(df, tables.load_external(external_path), paired)
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


def figure_missing(gt, rainy, folders: dict, testset: str) -> str:
    """Why the comparison figure cannot be drawn and how to get its inputs ('' when it can)."""
    if not folders:
        return (f'no run saved its output images for {testset}: test with `tools/test.py ... '
                f'--save-images` (in a grid: a test stage with --save-images, as in '
                f'ablations/demo_tiny.py) or add folders with --method NAME=DIR')
    if gt is None and rainy is None:
        return ('no --gt (ground-truth folder) was given, nor --rainy for real photographs '
                'without ground truth: pass them to `python -m analysis report`')
    return ''


def build_report(work_dirs, out_dir, external_path=tables.EXTERNAL_RESULTS, gt=None, rainy=None,
                 methods: dict | None = None, testset: str | None = None,
                 layout: str = 'double') -> Path:
    """Write the whole report under ``out_dir``; return the HTML page's path. ``layout``
    sizes the plots; the comparison figure, one column per method, is always 7 in wide."""
    out_dir = Path(out_dir)
    print(f'[analysis] report 1/6: collecting results from {", ".join(map(str, work_dirs))}')
    runs = store.discover_runs(work_dirs)
    df = store.tidy(runs)
    atomic_write_text(out_dir / 'results_tidy.csv', df.to_csv(index=False))
    print('[analysis] report 2/6: paired statistics')
    paired = stats.Paired(runs)
    comparisons = stats.to_frame(paired.comparisons)
    diffs = stats.image_diffs(runs, paired.comparisons)
    atomic_write_text(out_dir / 'stats.csv', comparisons.to_csv(index=False))
    print('[analysis] report 3/6: tables')
    built = write_tables(df, out_dir, external_path, paired)
    print('[analysis] report 4/6: plots')
    colors = method_colors(df['method'])
    made = plots.write_all(df, store.per_image(runs), store.training_curves(runs),
                           out_dir / 'plots', colors, comparisons, diffs, layout)
    print('[analysis] report 5/6: comparison figure')
    testset = testset or df['testset'].iloc[0]
    folders = {**saved_image_dirs(runs, testset), **(methods or {})}
    missing = figure_missing(gt, rainy, folders, testset)
    if missing:
        print(f'[analysis] no comparison figure: {missing}')
    else:
        made += figures.write_figure(out_dir / 'figures' / f'comparison_{testset}', gt_dir=gt,
                                     methods=folders, rainy_dir=rainy, error_maps=gt is not None,
                                     names=stats.most_affected(diffs, testset) or None)
    pngs = [p for p in made if p.suffix == '.png']
    print('[analysis] report 6/6: HTML page and Markdown summary')
    findings = summary_sentences(paired.comparisons)
    write_markdown(out_dir / 'summary.md', df, built, pngs, out_dir, findings, missing)
    references = _references(built, external_path)
    refs = ''.join(f'<li id="ref-{i}">{html.escape(text)}</li>'
                   for i, text in enumerate(references.values(), 1))
    page = out_dir / 'index.html'
    images = ''.join(f'<h3>{html.escape(p.stem.replace("_", " "))}</h3>'
                     f'<img src="{html.escape(p.relative_to(out_dir).as_posix())}" '
                     f'alt="{html.escape(p.stem)}">' for p in pngs)
    words = ''.join(f'<li>{html.escape(f)}</li>' for f in findings)
    atomic_write_text(page, f'<!DOCTYPE html><html><head><meta charset="utf-8">'
                            f'<title>Results report</title><style>{CSS}</style></head><body>'
                            f'<h1>Results report</h1><p>{html.escape(_overview(df))}</p>'
                            + (f'<h2>What the data supports</h2><ul>{words}</ul>' if words else '')
                            + ''.join(to_html(t, name, list(references))
                                      for name, t in built.items())
                            + f'<h2>Plots and figures</h2>{images}'
                            + (f'<p class="note">No comparison figure: {html.escape(missing)}.'
                               '</p>' if missing else '')
                            + (f'<h2>References</h2><ol>{refs}</ol>' if refs else '')
                            + '</body></html>\n')
    return page


def _references(built: dict, external_path) -> dict[str, str]:
    """Cite key → source text of every quoted row shown, in order of appearance."""
    sources = {e['cite']: e.get('source', e['cite']) for e in tables.load_external(external_path)}
    return {row.cite: sources.get(row.cite, row.cite)
            for table in built.values() for row in table.rows if row.cite}


def _overview(df) -> str:
    """``N runs, M methods, test sets: ...``, the opening line of the page and the summary."""
    runs = df.drop_duplicates('run_dir')
    testsets = sorted(df['testset_key'].unique())
    return (f'{plural(len(runs), "run")}, {plural(runs["method"].nunique(), "method")}, '
            f'{"test set" if len(testsets) == 1 else "test sets"}: {", ".join(testsets)}.')


def summary_sentences(comparisons: list[stats.Comparison], metric: str = 'psnr_y') -> list[str]:
    """In words, per test set: which variants change ``metric`` significantly vs the base."""
    out = []
    unit = ' dB' if metric.startswith('psnr') else ''
    for testset in dict.fromkeys(c.testset for c in comparisons):
        shown = [c for c in comparisons if c.testset == testset and c.metric == metric]
        if not shown:
            continue
        first = shown[0]
        held = [c.b for c in shown if c.significant]
        lead = (f'{", ".join(held)} change{"s" if len(held) == 1 else ""} '
                f'{tables.METRIC_LABELS[metric]} significantly' if held
                else f'no variant changes {tables.METRIC_LABELS[metric]} significantly')
        details = []
        for c in shown:
            ratio = ('' if math.isnan(c.seed_ratio)
                     else f', {c.seed_ratio:.1f}× the seed-to-seed spread')
            low, mean, high = (signed(v, DECIMALS[metric]) for v in
                               (c.ci_low, c.mean_diff, c.ci_high))
            details.append(f'{c.b} {mean}{unit} (95% CI {low} to {high}, better on '
                           f'{c.win_fraction:.0%} of images{ratio})')
        text = (f'{testset} ({plural(first.n_images, "image")}, '
                f'{plural(max(first.n_seeds_a, first.n_seeds_b), "seed")}; vs {first.a}): '
                f'{lead}. ' + '; '.join(details) + '.')
        if first.n_images < MIN_WILCOXON_IMAGES:
            text += (f' With {plural(first.n_images, "image")} the signed-rank test cannot '
                     f'reach p < {stats.ALPHA}: score more images to resolve these differences.')
        out.append(text)
    return out


def write_markdown(path: Path, df, built: dict, pngs: list[Path], out_dir: Path,
                   findings: list[str] = (), missing: str = '') -> None:
    parts = ['# Results summary', '', _overview(df), '']
    if findings:
        parts += ['## What the data supports', ''] + [f'- {f}' for f in findings] + ['']
    for table in built.values():
        parts += [f'## {table.title}', '', tables.to_markdown(table)]
    parts += ['## Plots and figures', '']
    parts += [f'![{p.stem}]({p.relative_to(out_dir).as_posix()})' for p in pngs]
    if missing:
        parts += ['', f'No comparison figure: {missing}.']
    atomic_write_text(path, '\n'.join(parts) + '\n')
