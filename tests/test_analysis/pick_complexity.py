"""Stage script of the fixture grid: this run's row of one ``tools/count_macs.py`` comparison.

The fixture counts the generators once, before the grid (``count_macs.py BASE --variant
KEY=VALUE KEY=VALUE``, so a variant's label is its override) instead of once per run (~20 s of
imports each on a loaded 2-core machine). A run takes the row labelled by one of its
``--cfg-options``, else the first row (the base config), and writes it as ``complexity.json``.
"""
import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('counts', type=Path, help='count_macs.py --out JSON (a list of rows)')
    parser.add_argument('out', type=Path)
    parser.add_argument('--cfg-options', nargs='*', default=[])
    args = parser.parse_args()
    rows = json.loads(args.counts.read_text())
    row = next((r for r in rows[1:] if r['label'] in args.cfg_options), rows[0])
    args.out.write_text(json.dumps({k: v for k, v in row.items() if k != 'label'}))


if __name__ == '__main__':
    main()
