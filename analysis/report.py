"""One folder with everything: tidy CSV, tables, statistics, plots, comparison figure, HTML page,
Markdown summary."""
import math
from pathlib import Path

import jinja2
from markupsafe import Markup

from analysis import figures, plots, protocol_table, stats, store, tables
from analysis.style import method_colors
from analysis.tables import DECIMALS, plural, signed
from danet.utils.fileio import atomic_write_text

TWINS = (('tex', 'LaTeX'), ('csv', 'CSV'), ('md', 'Markdown'))
MIN_WILCOXON_IMAGES = 6   # two-sided exact signed-rank p >= 2/2^n: below 0.05 needs n >= 6
TEMPLATES = Path(__file__).with_name('templates')
PLOT_TITLES = {'psnr_vs_gmacs': 'PSNR vs GMACs (bubble area: parameters)',
               'ablation_bars': 'Ablation: PSNR per variant',
               'training_curves': 'Training curves', 'per_image_psnr': 'Per-image PSNR',
               'forest_psnr': 'Δ PSNR vs base (95% CI)',
               'paired_diffs_psnr': 'Per-image Δ PSNR vs base'}


def inline_code(text: str) -> Markup:
    """Escape ``text`` for HTML, turning Markdown `code` spans into ``<code>`` elements."""
    parts = str(text).split('`')
    if len(parts) % 2 == 0:            # an unpaired backtick: show it as it is
        return Markup.escape(text)
    return Markup('').join(Markup('<code>%s</code>') % part if i % 2 else Markup.escape(part)
                           for i, part in enumerate(parts))


ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                         trim_blocks=True, lstrip_blocks=True,
                         undefined=jinja2.StrictUndefined)
ENV.filters['inline_code'] = inline_code


def table_context(table: tables.Table, stem: str | None = None,
                  references: list[str] = ()) -> dict:
    """What the template needs of a table: headers, rows of (text, mark) cells, citation
    numbers into ``references`` (cite keys, in order), notes and the twins' file stem."""
    emphasis = table.marks()
    rows = []
    for i, row in enumerate(table.rows):
        rows.append({'label': row.label,
                     'ref': list(references).index(row.cite) + 1 if row.cite in references
                     else None,
                     'block': tables.QUOTED_HEADER if i == table.quoted_start else '',
                     'cells': [(tables.cell_text(c.values[i], c), emphasis[j][i])
                               for j, c in enumerate(table.columns)]})
    spans = tables.column_groups(table)
    return {'title': table.title, 'stem': stem, 'notes': table.notes, 'rows': rows,
            'groups': [(g, n) for g, _, n in spans] if any(g for g, _, _ in spans) else [],
            'labels': [c.label for c in table.columns]}


def render_page(**context) -> str:
    """The report page (``templates/report.html.j2``) from ``context``."""
    return ENV.get_template('report.html.j2').render(**context, twins=TWINS,
                                                     tied_mark=tables.TIED_MARK)


def write_tables(df, out_dir: Path, external_path=tables.EXTERNAL_RESULTS,
                 paired: stats.Paired | None = None) -> dict[str, tables.Table]:
    """The ablation table (``tables.has_ablation``), and the comparison table or, when the same
    models were scored under several protocols, the protocol table (``protocol_table``; a
    comparison table would only spread it over a column group per protocol), as .tex, .md
    and .csv."""
    built = {}
    if tables.has_ablation(df):
        built['ablation'] = tables.ablation_table(df, paired)
    external = tables.load_external(external_path)
    if protocol_table.has_protocol_comparison(df):   # the same models under several protocols
        built['protocols'] = protocol_table.protocol_table(df, external)
    else:
        built['comparison'] = tables.comparison_table(df, external, paired)
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
                f'--save-images` (in a grid: a test stage with `--save-images`, as in '
                f'`ablations/demo_tiny.py`) or add folders with `--method NAME=DIR`')
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
    left_out = []
    runs = store.discover_runs(work_dirs, left_out)
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
    notices = first_page_notices(runs, df, built, paired, left_out)
    write_markdown(out_dir / 'summary.md', df, built, pngs, out_dir, findings, missing, notices)
    references = _references(built, external_path)
    page = out_dir / 'index.html'
    atomic_write_text(page, render_page(
        overview=_overview(df), notices=notices, findings=findings,
        tables=[table_context(t, name, list(references)) for name, t in built.items()],
        images=[{'title': PLOT_TITLES.get(p.stem, p.stem.replace('_', ' ')),
                 'src': p.relative_to(out_dir).as_posix(),
                 'alt': p.stem} for p in pngs],
        missing=missing, references=list(references.values())))
    return page


def first_page_notices(runs: list[store.Run], df, built: dict, paired: stats.Paired,
                       left_out: list[tuple[Path, str]]) -> list[str]:
    """What the report could not show and why, for its first page: a grid's missing ablation
    table or statistics, and the run folders it left out."""
    notices = []
    grid = df[df['source'] == 'grid']
    if not grid.empty and 'ablation' not in built:
        axes = sorted({c.removeprefix('axis:') for c in grid.columns if c.startswith('axis:')
                       and grid[c].notna().any()})
        notices.append(f'No ablation table: the grid varies one axis ({", ".join(axes)}) and has '
                       'no base run, so an ablation table would only repeat the comparison (right '
                       'for a zoo of models); to ablate a component, give the grid a base run '
                       "(`mode = 'one_at_a_time'`, docs/ablations.md).")
    if not grid.empty and not paired.comparisons:
        notices.append('No statistics against a base: '
                       f'{stats.why_no_comparisons(runs, all_pairs=False)}.')
    notices += [f'Left out `{path}`: {why}.' for path, why in left_out]
    return notices


def _references(built: dict, external_path) -> dict[str, str]:
    """Cite key → source text of every quoted row shown, in order of appearance."""
    sources = {e['cite']: e.get('source', e['cite']) for e in tables.load_external(external_path)}
    return {row.cite: sources.get(row.cite, row.cite)
            for table in built.values() for row in table.rows if row.cite}


def _overview(df) -> str:
    """``N runs, M methods, test sets: ...``, the opening line of the page and the summary."""
    runs = df.drop_duplicates('run_dir')
    testsets = sorted(df['testset'].unique())
    protocols = sorted(df['protocol'].dropna().unique()) if 'protocol' in df else []
    return (f'{plural(len(runs), "run")}, {plural(runs["method"].nunique(), "method")}, '
            f'{"test set" if len(testsets) == 1 else "test sets"}: {", ".join(testsets)}'
            + (f'; protocols: {", ".join(protocols)}' if len(protocols) > 1 else '') + '.')


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
                   findings: list[str] = (), missing: str = '', notices: list[str] = ()) -> None:
    parts = ['# Results summary', '', _overview(df), '']
    if notices:
        parts += [f'- {n}' for n in notices] + ['']
    if findings:
        parts += ['## What the data supports', ''] + [f'- {f}' for f in findings] + ['']
    for table in built.values():
        parts += [f'## {table.title}', '', tables.to_markdown(table)]
    parts += ['## Plots and figures', '']
    parts += [f'![{p.stem}]({p.relative_to(out_dir).as_posix()})' for p in pngs]
    if missing:
        parts += ['', f'No comparison figure: {missing}.']
    atomic_write_text(path, '\n'.join(parts) + '\n')
