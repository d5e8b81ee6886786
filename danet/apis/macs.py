"""Parameters and MACs of configs' generators (``tools/count_macs.py``): one config gives a
per-module table, several configs or variants one comparison table (a row per config and per
variant; a variant is the first config with its own overrides)."""
import argparse
from pathlib import Path

from mmengine.config import DictAction
from tqdm import tqdm

from danet.utils.complexity import (
    complexity_report,
    format_compare_table,
    format_module_table,
    generator_cfg_from_config,
)
from danet.utils.fileio import atomic_write_json


def parse_overrides(pairs: list[str]) -> dict:
    """``['k=v', ...]`` parsed the way ``--cfg-options`` parses them."""
    parsed = argparse.Namespace()
    DictAction(option_strings=[], dest='options')(None, parsed, pairs)
    return parsed.options


def count_macs(configs: list[str], shape: list[int], cfg_options: dict | None = None,
               variants: list[list[str]] = (), out: str | None = None) -> dict | list[dict]:
    """Print the table and return the report (a list of labelled reports when comparing);
    ``variants`` are ``[label, 'k=v', ...]``; ``out`` also writes it as JSON, atomically."""
    cfg_options = cfg_options or {}
    rows = {Path(path).stem: (path, cfg_options) for path in configs}
    for label, *pairs in variants:
        rows[label] = (configs[0], {**cfg_options, **parse_overrides(pairs)})
    reports = {label: complexity_report(generator_cfg_from_config(path, options), shape)
               for label, (path, options) in tqdm(rows.items(), desc='counting',
                                                  disable=len(rows) == 1)}
    if len(reports) == 1:
        report = next(iter(reports.values()))
        print(format_module_table(report))
    else:
        report = [dict(label=label, **r) for label, r in reports.items()]
        print(format_compare_table(reports))
    if out:
        atomic_write_json(out, report)
    return report
