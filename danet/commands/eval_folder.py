"""Score restored images made elsewhere, in the platform's results schema.

    python -m danet eval-folder PRED_DIR GT_DIR --testset NAME --method NAME --out-dir D
        [--no-lpips] [--protocol NAME] [--crop-border N]
    python -m danet eval-folder PRED_DIR --no-reference --testset NAME --method NAME --out-dir D

Writes ``D/<testset>.json`` (``--testset`` and ``--method`` pass the name gate; one writer per
``D`` at a time; bad input: exit 2, nothing written); files pair by name (or by stem across
extensions); ground truths without a prediction are skipped and named. With
``--no-reference`` (no ground truth, e.g. real photos) every image is scored alone by the
no-reference metrics (NIQE, BRISQUE, lower is better); an image they cannot score (too small,
flat) is listed under ``refused`` with the reason and the rest are scored.
``tools/eval_folder.py`` is a shim with the same flags.
"""
import argparse
import sys
from pathlib import Path

from danet.apis.folder_eval import evaluate_folder_no_reference, evaluate_folders
from danet.evaluation.metric_table import FULL_REFERENCE_KEYS, METRIC_TABLE
from danet.evaluation.protocols import DEFAULT_PROTOCOL, protocol_names
from danet.evaluation.results import write_results
from danet.utils.names import check_name
from danet.utils.output_lock import output_lock


def build_parser(parser=None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog='python -m danet eval-folder',
                                               description=__doc__.splitlines()[0])
    parser.add_argument('pred_dir', type=Path, help='folder of predicted (derained) images')
    parser.add_argument('gt_dir', type=Path, nargs='?',
                        help='folder of ground-truth images (omit with --no-reference)')
    parser.add_argument('--no-reference', action='store_true',
                        help='no ground truth: score each image alone (NIQE)')
    parser.add_argument('--testset', required=True, help='test set name, e.g. Rain100L')
    parser.add_argument('--method', required=True, help='method name recorded in the results')
    parser.add_argument('--out-dir', required=True, type=Path, help='folder for <testset>.json')
    parser.add_argument('--no-lpips', action='store_true', help='skip LPIPS (faster)')
    parser.add_argument('--protocol', choices=protocol_names(), default=DEFAULT_PROTOCOL,
                        help=f'evaluation protocol (default {DEFAULT_PROTOCOL}); '
                             'see docs/metrics.md')
    parser.add_argument('--crop-border', type=int, default=0,
                        help='protocol parameter: pixels cropped from each side (default 0)')
    return parser


def run(args) -> int:
    if args.no_reference == (args.gt_dir is not None):
        raise ValueError('eval-folder: give GT_DIR, or --no-reference without GT_DIR')
    check_name(args.testset, '--testset')
    check_name(args.method, '--method')
    protocol = dict(type=args.protocol, crop_border=args.crop_border)
    with output_lock(args.out_dir, 'eval_folder'):
        if args.no_reference:
            results = evaluate_folder_no_reference(args.pred_dir, args.testset, args.method,
                                                   protocol=protocol)
        else:
            metrics = [k for k in FULL_REFERENCE_KEYS
                       if not (args.no_lpips and METRIC_TABLE[k].uses_lpips)]
            results = evaluate_folders(args.pred_dir, args.gt_dir, args.testset, args.method,
                                       metrics=metrics, protocol=protocol)
        path = write_results(args.out_dir / f'{args.testset}.json', results)
    summary = ', '.join(f'{k} {v:.4f}' for k, v in results['summary'].items())
    print(f'wrote {path} ({len(results["images"])} images): {summary}')
    for row in results.get('refused', []):
        print(f'refused {row["name"]}: {row["reason"]}', file=sys.stderr)
    return 0


def main(argv=None) -> int:
    return run(build_parser().parse_args(argv))
