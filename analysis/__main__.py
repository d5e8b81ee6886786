"""``python -m analysis {collect,table,plot,figure,report,stats,compare,rank,complexity,
complexity-plot,
docs-figures}``: outputs from stored results."""
import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from analysis import (
    complexity_plot,
    docs_figures,
    figures,
    plots,
    rank,
    report,
    stats,
    store,
    style,
    tables,
)
from danet.evaluation.results import ResultsError
from danet.utils.fileio import atomic_write_json, atomic_write_text
from danet.utils.names import BadNameError, check_name, check_unique


def _name_dir(text: str) -> tuple[str, Path]:
    name, sep, folder = text.partition('=')
    if not sep or not name or not folder:
        raise argparse.ArgumentTypeError(f'expected NAME=DIR, got {text!r}')
    return name, Path(folder)


def _box(text: str) -> tuple[int, int, int, int]:
    try:
        x, y, w, h = (int(v) for v in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected x,y,w,h integers, got {text!r}') from None
    return x, y, w, h


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='python -m analysis', description=__doc__)
    sub = parser.add_subparsers(dest='command', required=True)
    layout = argparse.ArgumentParser(add_help=False)
    layout.add_argument('--layout', choices=sorted(style.WIDTHS), default='double',
                        help='figure width: single column (3.5 in) or double column (7 in)')
    p = sub.add_parser('collect', help='tidy CSV: one row per run × test set × metric')
    p.add_argument('work_dirs', nargs='+', type=Path)
    p.add_argument('--out', type=Path, required=True, help='CSV file to write')

    p = sub.add_parser('table', help='ablation, comparison or protocol tables (.tex, .md, .csv)')
    p.add_argument('work_dirs', nargs='+', type=Path)
    p.add_argument('--out-dir', type=Path, required=True)
    p.add_argument('--external', type=Path, default=tables.EXTERNAL_RESULTS,
                   help='quoted paper numbers (default: analysis/external_results.yaml)')

    p = sub.add_parser('plot', parents=[layout],
                       help='bubble chart, ablation bars, curves, distributions')
    p.add_argument('work_dirs', nargs='+', type=Path)
    p.add_argument('--out-dir', type=Path, required=True)

    image_args = argparse.ArgumentParser(add_help=False, parents=[layout])
    image_args.add_argument('--gt', type=Path, help='ground-truth image folder')
    image_args.add_argument('--rainy', type=Path,
                            help='degraded input folder (first column; rainy/, hazy/, low/)')
    image_args.add_argument('--method', dest='methods', action='append', type=_name_dir,
                            default=[], metavar='NAME=DIR', help='a method\'s output folder')

    p = sub.add_parser('figure', parents=[image_args], help='image comparison figure')
    p.add_argument('--out', type=Path, required=True, help='output stem (.pdf and .png)')
    p.add_argument('--images', nargs='+', help='image names (default: most differing)')
    p.add_argument('--n-images', type=int, default=3)
    p.add_argument('--box', type=_box, help='inset box x,y,w,h (default: most differing)')
    p.add_argument('--error-maps', action='store_true')
    p.add_argument('--niqe', action='append', type=Path, default=[], metavar='RESULTS_JSON',
                   help='without --gt: caption each tile with its NIQE from this results file '
                        '(tools/eval_folder.py --no-reference); its method names the column')

    p = sub.add_parser('report', parents=[image_args], help='everything plus HTML and Markdown')
    p.add_argument('work_dirs', nargs='+', type=Path)
    p.add_argument('--out', type=Path, required=True, help='report folder')
    p.add_argument('--external', type=Path, default=tables.EXTERNAL_RESULTS)
    p.add_argument('--testset', help='test set of the comparison figure (default: first)')

    p = sub.add_parser('stats', help='paired statistics of grid variants vs the base (CSV)')
    p.add_argument('work_dirs', nargs='+', type=Path)
    p.add_argument('--out', type=Path, required=True, help='CSV file to write')
    p.add_argument('--all-pairs', action='store_true', help='every pair of variants, not vs base')

    p = sub.add_parser('compare', help='paired statistics of B − A for two runs or result folders')
    p.add_argument('a', type=Path, help='run folder (or a folder of one method\'s seeds)')
    p.add_argument('b', type=Path)
    p.add_argument('--testset', help='only this test set (default: every shared one)')
    p.add_argument('--json', type=Path, help='write {testset: {metric: numbers}} here')
    p = sub.add_parser('rank', help='a candidate against the zoo: table, paired statistics vs '
                                    'the best zoo method, figure (python -m ablations rank '
                                    'evaluates and calls this)')
    p.add_argument('manifest', type=Path, help='rank_manifest.json of python -m ablations rank')
    p.add_argument('--out', type=Path, required=True, help='folder for rank.md/.csv, '
                                                          'significance.json, figures')
    p.add_argument('--gt', dest='gts', action='append', type=_name_dir, default=[],
                   metavar='TESTSET=DIR', help='ground truths of a test set, for its figure')
    p = sub.add_parser('complexity', help='the complexity table tools/zoo_complexity.py measured, '
                                          'as Markdown, CSV and LaTeX beside its JSON')
    p.add_argument('zoo_json', type=Path, help='zoo_complexity.json of tools/zoo_complexity.py')
    p = sub.add_parser('complexity-plot', parents=[layout],
                       help='PSNR vs MACs of the zoo: the runs under WORK_DIRS placed at the MACs '
                            'of the complexity table tools/zoo_complexity.py wrote')
    p.add_argument('zoo_json', type=Path, help='zoo_complexity.json of tools/zoo_complexity.py')
    p.add_argument('work_dirs', nargs='+', type=Path)
    p.add_argument('--out', type=Path, required=True, help='output stem (.pdf and .png)')
    p.add_argument('--metric', choices=sorted(store.METRICS), default='psnr_y')
    p = sub.add_parser('docs-figures', help="regenerate docs/analysis.md's sample figures from "
                                            'a finished demo (`make demo` first)')
    p.add_argument('--demo-dir', type=Path, default=Path('work_dirs/demo'))
    p.add_argument('--out', type=Path, default=docs_figures.DOCS)
    return parser.parse_args(argv)


def _one_method(folder: Path) -> list[store.Run]:
    """The runs under ``folder``: seeds of one method (several methods are an error)."""
    groups = stats.by_method(store.discover_runs([folder]))
    if len(groups) > 1:
        raise store.AnalysisError(f'{folder}: holds several methods ({", ".join(groups)}); give '
                                  'one run folder or a folder of one method\'s seeds')
    return next(iter(groups.values()))


JSON_FIELDS = ('mean_diff', 'ci_low', 'ci_high', 'p_value', 'n_images', 'significant',
               'n_seeds_a', 'n_seeds_b', 'win_fraction')


def compare(args: argparse.Namespace) -> None:
    found = stats.compare_groups(_one_method(args.a), _one_method(args.b),
                                 testsets=[args.testset] if args.testset else None)
    if not found:
        raise store.AnalysisError(f'{args.a} and {args.b} share no test set and metric')
    print(f'B − A with A = {found[0].a} ({args.a}), B = {found[0].b} ({args.b})')
    print(f'{"test set":<14}{"metric":<12}{"mean_diff":>10}{"95% CI":>22}{"p":>9}'
          f'{"images":>8}{"seeds":>7}  significant')
    for c in found:
        decimals = tables.DECIMALS[c.metric]
        ci = f'[{c.ci_low:+.{decimals}f}, {c.ci_high:+.{decimals}f}]'
        print(f'{c.testset:<14}{c.metric:<12}{c.mean_diff:>+10.{decimals}f}{ci:>22}'
              f'{c.p_value:>9.3g}{c.n_images:>8}{f"{c.n_seeds_a}/{c.n_seeds_b}":>7}  '
              f'{"yes" if c.significant else "no"}')
    if args.json:
        out: dict = {'a': str(args.a), 'b': str(args.b), 'method_a': found[0].a,
                     'method_b': found[0].b, 'results': {}}
        for c in found:
            out['results'].setdefault(c.testset, {})[c.metric] = {
                k: v for k, v in asdict(c).items() if k in JSON_FIELDS}
        atomic_write_json(args.json, out)
        print(f'-> {args.json}')


def run(args: argparse.Namespace) -> None:
    if args.command == 'figure':
        paths = figures.write_figure(args.out, gt_dir=args.gt, methods=dict(args.methods),
                                     rainy_dir=args.rainy, names=args.images,
                                     n_images=args.n_images, box=args.box,
                                     error_maps=args.error_maps, layout=args.layout,
                                     niqe=dict(map(figures.read_niqe, args.niqe)))
        print('\n'.join(map(str, paths)))
        return
    if args.command == 'compare':
        compare(args)
        return
    if args.command == 'rank':
        for path in rank.write_rank(args.manifest, args.out, dict(args.gts)):
            print(path)
        return
    if args.command == 'complexity':
        for path in complexity_plot.write_tables(args.zoo_json):
            print(path)
        return
    if args.command == 'complexity-plot':
        print('\n'.join(map(str, complexity_plot.complexity_plot(
            args.zoo_json, args.work_dirs, args.out, args.metric, args.layout))))
        return
    if args.command == 'docs-figures':
        docs_figures.docs_figures(args.demo_dir, args.out)
        return
    if args.command == 'report':
        page = report.build_report(args.work_dirs, args.out, args.external, gt=args.gt,
                                   rainy=args.rainy, methods=dict(args.methods),
                                   testset=args.testset, layout=args.layout)
        print(f'report: {page}')
        return
    runs = store.discover_runs(args.work_dirs)
    df = store.tidy(runs)
    if args.command == 'collect':
        atomic_write_text(args.out, df.to_csv(index=False))
        print(f'{len(df)} rows from {len(runs)} runs -> {args.out}')
    elif args.command == 'table':
        paired = stats.Paired(runs)
        for table in report.write_tables(df, args.out_dir, args.external, paired).values():
            print(tables.to_markdown(table))
    elif args.command == 'stats':
        frame = stats.to_frame(stats.grid_comparisons(runs, all_pairs=args.all_pairs))
        if frame.empty:
            raise store.AnalysisError(
                f'stats: nothing to compare: {stats.why_no_comparisons(runs, args.all_pairs)}')
        atomic_write_text(args.out, frame.to_csv(index=False))
        print(f'{len(frame)} comparisons -> {args.out}')
    elif args.command == 'plot':
        comparisons = stats.grid_comparisons(runs)
        paths = plots.write_all(df, store.per_image(runs), store.training_curves(runs),
                                args.out_dir, comparisons=stats.to_frame(comparisons),
                                diffs=stats.image_diffs(runs, comparisons), layout=args.layout)
        print('\n'.join(map(str, paths)))


def check_names(args: argparse.Namespace) -> None:
    """Labels that become file names or glob patterns pass the name gate (docs/reliability.md)."""
    check_unique([name for name, _ in getattr(args, 'methods', [])], '--method')
    if args.command == 'rank':
        check_unique([name for name, _ in args.gts], '--gt')
    if args.command == 'report' and args.testset is not None:
        check_name(args.testset, '--testset')


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        check_names(args)
        run(args)
    except (store.AnalysisError, ResultsError, BadNameError) as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()
