"""``python -m analysis {collect,table,plot,figure,report}``: outputs from stored results."""
import argparse
import sys
from pathlib import Path

from analysis import figures, plots, report, store, tables
from danet.evaluation.results import ResultsError
from danet.utils.fileio import atomic_write_text


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
    p = sub.add_parser('collect', help='tidy CSV: one row per run × test set × metric')
    p.add_argument('work_dirs', nargs='+', type=Path)
    p.add_argument('--out', type=Path, required=True, help='CSV file to write')

    p = sub.add_parser('table', help='ablation and comparison tables (.tex, .md, .csv)')
    p.add_argument('work_dirs', nargs='+', type=Path)
    p.add_argument('--out-dir', type=Path, required=True)
    p.add_argument('--external', type=Path, default=tables.EXTERNAL_RESULTS,
                   help='quoted paper numbers (default: analysis/external_results.yaml)')

    p = sub.add_parser('plot', help='bubble chart, ablation bars, curves, distributions')
    p.add_argument('work_dirs', nargs='+', type=Path)
    p.add_argument('--out-dir', type=Path, required=True)

    image_args = argparse.ArgumentParser(add_help=False)
    image_args.add_argument('--gt', type=Path, help='ground-truth image folder')
    image_args.add_argument('--rainy', type=Path, help='rainy input folder (first column)')
    image_args.add_argument('--method', dest='methods', action='append', type=_name_dir,
                            default=[], metavar='NAME=DIR', help='a method\'s output folder')

    p = sub.add_parser('figure', parents=[image_args], help='image comparison figure')
    p.add_argument('--out', type=Path, required=True, help='output stem (.pdf and .png)')
    p.add_argument('--images', nargs='+', help='image names (default: most differing)')
    p.add_argument('--n-images', type=int, default=3)
    p.add_argument('--box', type=_box, help='inset box x,y,w,h (default: most differing)')
    p.add_argument('--error-maps', action='store_true')

    p = sub.add_parser('report', parents=[image_args], help='everything plus HTML and Markdown')
    p.add_argument('work_dirs', nargs='+', type=Path)
    p.add_argument('--out', type=Path, required=True, help='report folder')
    p.add_argument('--external', type=Path, default=tables.EXTERNAL_RESULTS)
    p.add_argument('--testset', help='test set of the comparison figure (default: first)')
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> None:
    if args.command == 'figure':
        if not args.gt and not args.rainy:
            raise store.AnalysisError('figure: --gt is required (or --rainy alone for photos '
                                      'without ground truth)')
        paths = figures.write_figure(args.out, gt_dir=args.gt, methods=dict(args.methods),
                                     rainy_dir=args.rainy, names=args.images,
                                     n_images=args.n_images, box=args.box,
                                     error_maps=args.error_maps)
        print('\n'.join(map(str, paths)))
        return
    if args.command == 'report':
        page = report.build_report(args.work_dirs, args.out, args.external, gt=args.gt,
                                   rainy=args.rainy, methods=dict(args.methods),
                                   testset=args.testset)
        print(f'report: {page}')
        return
    runs = store.discover_runs(args.work_dirs)
    df = store.tidy(runs)
    if args.command == 'collect':
        atomic_write_text(args.out, df.to_csv(index=False))
        print(f'{len(df)} rows from {len(runs)} runs -> {args.out}')
    elif args.command == 'table':
        for table in report.write_tables(df, args.out_dir, args.external).values():
            print(tables.to_markdown(table))
    elif args.command == 'plot':
        paths = plots.write_all(df, store.per_image(runs), store.training_curves(runs),
                                args.out_dir)
        print('\n'.join(map(str, paths)))


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except (store.AnalysisError, ResultsError) as err:
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
