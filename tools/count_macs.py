"""Count a generator's parameters and MACs (one multiply-add = one MAC).

    python tools/count_macs.py configs/_base_/models/danet.py --shape 3 256 256 --out c.json
    python tools/count_macs.py configs/_base_/models/danet.py configs/_base_/models/mprnet.py \
        --variant plain_alm model.generator.alm.type=PlainALM

One config and no ``--variant`` prints a per-module table; otherwise one comparison table with a
row per config and per variant (variants apply their overrides to the first config). ``--out``
writes the report (a list of reports when comparing) as JSON.
"""
import argparse
from pathlib import Path

from mmengine.config import DictAction
from tqdm import tqdm

from danet.utils.cli import run_main
from danet.utils.complexity import (
    complexity_report,
    format_compare_table,
    format_module_table,
    generator_cfg_from_config,
)
from danet.utils.fileio import atomic_write_json


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+', help='config files with a model.generator')
    parser.add_argument('--shape', nargs=3, type=int, default=[3, 256, 256],
                        metavar=('C', 'H', 'W'))
    parser.add_argument('--out', help='JSON file for the report(s)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides applied to every config, e.g. model.generator.n_feat=32')
    parser.add_argument('--variant', nargs='+', action='append', default=[],
                        metavar=('LABEL', 'KEY=VALUE'),
                        help='a comparison row: the first config with these overrides')
    return parser.parse_args(argv)


def _overrides(pairs: list[str]) -> dict:
    parsed = argparse.Namespace()
    DictAction(option_strings=[], dest='options')(None, parsed, pairs)
    return parsed.options


def main(argv=None) -> None:
    args = parse_args(argv)
    rows = {Path(path).stem: (path, args.cfg_options) for path in args.configs}
    for label, *pairs in args.variant:
        rows[label] = (args.configs[0], {**args.cfg_options, **_overrides(pairs)})
    reports = {label: complexity_report(generator_cfg_from_config(path, options), args.shape)
               for label, (path, options) in tqdm(rows.items(), desc='counting',
                                                  disable=len(rows) == 1)}
    if len(reports) == 1:
        report = next(iter(reports.values()))
        print(format_module_table(report))
    else:
        report = [dict(label=label, **r) for label, r in reports.items()]
        print(format_compare_table(reports))
    if args.out:
        atomic_write_json(args.out, report)


if __name__ == '__main__':
    run_main(main)
