"""``python -m data_tools`` / ``danet-data``: pack, verify, inspect, card, leaks, list, synth, ...

Exit codes: 0 success, 1 ``verify`` found mismatches, 2 bad input (nothing written),
3 ``leaks`` found duplicate or leaking images.
"""
import argparse
import json
import shlex
import sys
from pathlib import Path

from danet.datasets.fingerprint import THRESHOLD as FP_THRESHOLD
from danet.datasets.image_files import LAYOUTS, BadInputError
from danet.utils.cli import describe_error
from data_tools.split_options import add_split_options
from data_tools.synth import RainParams


def _pack(args) -> int:
    from danet.datasets.pack import pack
    manifest = pack(args.src, args.out, args.layout, compression=args.compression,
                    storage=args.storage, resume=args.resume, shard_size=args.shard_size,
                    card_pairs=args.card_pairs, list_file=args.list, skip_bad=args.skip_bad,
                    convert=args.convert, overwrite=args.overwrite,
                    val_fraction=args.val_fraction, split_seed=args.split_seed,
                    workers=args.workers, command=shlex.join(['danet-data', *args.argv]),
                    exclude_overlap_with=args.exclude_overlap_with,
                    provenance={'source': args.source, 'license': args.license})
    excluded = (f'; excluded {len(manifest.excluded)} background(s) found in '
                f'{", ".join(args.exclude_overlap_with)}' if args.exclude_overlap_with else '')
    print(f'packed {manifest.num_rainy} degraded / {manifest.num_clean} clean images '
          f'into {args.out}; skipped {len(manifest.skipped)}{excluded}')
    for path, reason in manifest.skipped:
        print(f'  skipped {path}: {reason}')
    for item in manifest.excluded:
        match = item['matches'][0]
        print(f'  excluded {item["clean"] or item["rainy"][0]} ({len(item["rainy"])} rainy): '
              f'matches {match["set"]} {match["image"]} ({match["similarity"]:.3f})')
    return 0


def _verify(args) -> int:
    from data_tools.verify import verify
    bad = verify(args.path)
    for label, reason in bad:
        print(f'MISMATCH {label}: {reason}')
    print(f'{args.path}: {"OK" if not bad else f"{len(bad)} problem(s)"}')
    return 1 if bad else 0


def _inspect(args) -> int:
    from danet.datasets.card import dataset_card
    card = dataset_card(args.path)
    card['images'] = f'{card["rainy"]} per-image hashes: python -m data_tools card PATH'
    print(json.dumps(card, indent=2))
    return 0


def _card(args) -> int:
    from danet.datasets.card import card_markdown, dataset_card, image_rows
    from danet.datasets.h5format import PackedFile
    from danet.utils.fileio import atomic_write_text
    card = dataset_card(args.path)
    packed = PackedFile(args.path)
    try:
        images = image_rows(packed.manifest)
        text = (card_markdown(card, images) if args.format == 'md' else
                json.dumps({**card, 'images': list(images)}, indent=2) + '\n')
    finally:
        packed.close()
    if args.out:
        _writing(args.out, lambda: atomic_write_text(args.out, text))
        print(f'card written to {args.out}')
    else:
        print(text, end='')
    return 0


def _leaks(args) -> int:
    from danet.utils.fileio import atomic_write_json
    from data_tools.leaks import find_leaks, format_table
    report = find_leaks(args.sets, args.layout, args.threshold, args.workers,
                        args.cache_in_place)
    print(format_table(report))
    if args.json:
        _writing(args.json, lambda: atomic_write_json(args.json, report))
        print(f'report written to {args.json}')
    return 3 if report['duplicates'] or report['leaks'] else 0


def _calibrate_leaks(args) -> int:
    from danet.utils.fileio import atomic_write_json
    from data_tools.calibrate_leaks import calibrate, format_calibration
    result = calibrate([Path(f) for f in args.folders], args.seed, args.limit)
    print(format_calibration(result))
    if args.json:
        atomic_write_json(args.json, result)
    return 0


def _list(args) -> int:
    from data_tools.listing import list_packed
    for row in list_packed(args.root):
        if 'error' in row:
            print(f'{row["path"]}  ERROR {row["error"]}')
        else:
            print(f'{row["path"]}  rainy={row["rainy"]} clean={row["clean"]} '
                  f'layout={row["layout"]} hash={row["content_hash"][:16]} '
                  f'source={row["source"]}' + (f' shards={row["shards"]}' if row['shards'] else ''))
    return 0


def _synth(args) -> int:
    from data_tools.synth import synthesise
    params = RainParams(density=args.density, angle=args.angle, length=args.length,
                        width=args.width, intensity=args.intensity, haze=args.haze)
    count = synthesise(args.clean_dir, args.out_dir, args.seed, params, task=args.task)
    print(f'wrote {count} {args.task} pairs to {args.out_dir}')
    return 0


def _photos(args) -> int:
    from data_tools.synth import export_photos
    written = export_photos(args.out_dir, args.max_size)
    print(f'wrote {len(written)} photographs to {args.out_dir}')
    return 0


def _bench(args) -> int:
    from danet.utils.fileio import atomic_write_json
    from data_tools.bench import benchmark, format_rows
    rows = benchmark(args.pairs, args.size, args.workers or 2,
                     Path(args.keep) if args.keep else None, args.batches, skip=args.skip,
                     suffix=f'.{args.source_format}', shard_size=args.shard_size)
    print(format_rows(rows))
    if args.json:
        atomic_write_json(args.json, rows)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='danet-data', description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)

    p = sub.add_parser('pack', help='pack an image folder into HDF5')
    p.add_argument('src')
    p.add_argument('out')
    p.add_argument('--layout', choices=LAYOUTS, default='pairs')
    p.add_argument('--list', metavar='FILE',
                   help='with --layout list: the file of "RAINY CLEAN" lines (SPA-Data)')
    p.add_argument('--compression', choices=('none', 'gzip', 'lzf'), default='none')
    p.add_argument('--storage', choices=('raw', 'encoded'), default='raw',
                   help='raw pixels (default) or the PNG bytes, decoded when loaded')
    p.add_argument('--resume', action='store_true',
                   help="continue a killed pack to OUT from the segments it finished")
    p.add_argument('--shard-size', type=int, default=None, metavar='N',
                   help='write shard files of about N degraded images and OUT as their index')
    p.add_argument('--card-pairs', type=int, default=1000, metavar='N',
                   help='pairs whose PSNR/SSIM the card measures, evenly spaced (0: all)')
    p.add_argument('--skip-bad', action='store_true',
                   help='pack the good files and record the bad ones in the manifest')
    p.add_argument('--convert', action='store_true',
                   help='convert grayscale/palette/alpha/16-bit images to 8-bit RGB (recorded)')
    p.add_argument('--overwrite', action='store_true')
    add_split_options(p)
    p.add_argument('--workers', type=int, default=None, help='decoding processes (all cores)')
    p.add_argument('--exclude-overlap-with', nargs='+', default=[], metavar='TEST',
                   help='leave out backgrounds found in these sets (.h5 or folders)')
    p.add_argument('--source', help='where the images come from (stored in the dataset card)')
    p.add_argument('--license', help='their license (stored in the dataset card)')
    p.set_defaults(func=_pack)

    for name, func, help_text in (('verify', _verify, 're-hash every image'),
                                  ('inspect', _inspect, 'print the dataset card (JSON)')):
        p = sub.add_parser(name, help=help_text)
        p.add_argument('path')
        p.set_defaults(func=func)

    p = sub.add_parser('card', help='write the dataset card (Markdown or JSON)')
    p.add_argument('path')
    p.add_argument('--format', choices=('md', 'json'), default='md')
    p.add_argument('--out', help='write here instead of standard output')
    p.set_defaults(func=_card)

    p = sub.add_parser('leaks', help='duplicates within and background leaks across datasets')
    p.add_argument('sets', nargs='+', help='packed .h5 files or image folders')
    p.add_argument('--layout', choices=LAYOUTS, default='pairs', help='layout of folders')
    p.add_argument('--threshold', type=float, default=FP_THRESHOLD,
                   help='fingerprint cosine similarity counted as the same background')
    p.add_argument('--json', help='also write the report as JSON here')
    p.add_argument('--workers', type=int, default=None, help='decoding processes (all cores)')
    p.add_argument('--cache-in-place', action='store_true',
                   help='store fingerprints into packed files that lack them (otherwise '
                        'inputs are never written; caches go to ~/.cache/danet)')
    p.set_defaults(func=_leaks)

    p = sub.add_parser('calibrate-leaks', help="measure the leak detector's error rates")
    p.add_argument('folders', nargs='+', help='paired folders (rainy/ + clean/)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--limit', type=int, default=None, help='use at most this many backgrounds')
    p.add_argument('--json', help='also write the figures as JSON here')
    p.set_defaults(func=_calibrate_leaks)

    p = sub.add_parser('list', help='list packed datasets under a folder')
    p.add_argument('root')
    p.set_defaults(func=_list)

    defaults = RainParams()
    p = sub.add_parser('synth', help='synthesise rain, haze or low light over clean photographs')
    p.add_argument('clean_dir')
    p.add_argument('out_dir')
    p.add_argument('--seed', type=int, required=True)
    p.add_argument('--task', choices=('derain', 'dehaze', 'lowlight'), default='derain',
                   help='degradation (default derain); the rain options apply to derain only')
    for key in ('density', 'angle', 'width', 'intensity', 'haze'):
        p.add_argument(f'--{key}', type=float, default=getattr(defaults, key))
    p.add_argument('--length', type=int, default=defaults.length)
    p.set_defaults(func=_synth)

    p = sub.add_parser('bench', help='scale benchmark: synthetic pairs through every step')
    p.add_argument('--pairs', type=int, default=64, help='synthetic pairs (default 64)')
    p.add_argument('--size', type=int, default=64, help='their side in pixels (default 64)')
    p.add_argument('--workers', type=int, default=None, help='packing processes (default 2)')
    p.add_argument('--batches', type=int, default=20, help='loader batches of 16 timed')
    p.add_argument('--keep', metavar='DIR', help='work here and keep the files (default: a '
                   'temporary folder, removed)')
    p.add_argument('--skip', nargs='+', default=[], choices=('encoded', 'shards', 'resume'),
                   help='leave out the encoded-storage pack, the sharded pack or the killed '
                   'and resumed pack (large runs)')
    p.add_argument('--shard-size', type=int, default=None, metavar='N',
                   help='shard the main pack too (N pairs a shard): no merge copy, so the '
                   'disk holds the set once (large runs)')
    p.add_argument('--source-format', choices=('png', 'jpg'), default='png',
                   help='synthetic source files: PNG (default) or JPEG quality 95 (a tenth '
                   'of the disk, like Rain13K\'s JPEGs)')
    p.add_argument('--json', help='also write the rows as JSON here')
    p.set_defaults(func=_bench)

    p = sub.add_parser('photos', help="export scikit-image's colour photographs")
    p.add_argument('out_dir')
    p.add_argument('--max-size', type=int, default=512)
    p.set_defaults(func=_photos)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.func(args)
    except (BadInputError, OSError, ValueError) as err:  # OSError: missing file, full disk
        print(f'error: {describe_error(err)}', file=sys.stderr)
        return 2


def _writing(path: str, write) -> None:
    """Run ``write()``; a failure names ``path`` (not the temporary file beside it)."""
    try:
        write()
    except OSError as err:
        raise OSError(err.errno, f'cannot write {path}: {err.strerror or err}') from None


if __name__ == '__main__':
    sys.exit(main())
