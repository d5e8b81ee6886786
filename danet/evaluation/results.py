"""The results file ``results/<testset>.json``: build, validate, write (atomically) and read.

Schema (docs/architecture.md)::

    {testset, method, summary: {metric: mean}, images: [{name, metric: value, ...}],
     conventions: {protocol, crop_border, ...}, config_hash, dataset_hash,
     refused: [{name, reason}],                               # optional
     metrics: {metric: {higher_is_better, decimals, label, reference, shown_in}}}   # optional


``summary`` holds the mean of every metric over ``images``; every image row has the same metric
keys as ``summary``. ``conventions`` is ``EvalProtocol.conventions()``: the protocol's name,
parameters and arithmetic. ``config_hash`` is null for images scored outside a run
(``eval_folder``). PSNR of identical images is ``Infinity`` (Python's json reads and writes it).
``refused`` (optional, ``eval_folder --no-reference``) lists the images a metric could not score
(too small, flat) with the reason; they are in neither ``images`` nor ``summary``.
``metrics`` (written when a metric is not one of the shipped rows: a plug-in's) holds the row of
each such metric (``metric_table.describe``); ``read_results`` adds those rows to the metric
table, so analysis shows a plug-in's metric without importing the plug-in.
"""
import json
import math
import os
from pathlib import Path

from danet.evaluation.metric_table import DESCRIBED, METRIC_TABLE, SHIPPED_KEYS, describe, learn
from danet.utils.fileio import atomic_write_json

FIELDS = ('testset', 'method', 'summary', 'images', 'conventions', 'config_hash', 'dataset_hash')
OPTIONAL_FIELDS = ('refused', 'metrics')
CONVENTION_KEYS = ('protocol', 'crop_border', 'quantize', 'y_channel', 'peak', 'ssim')


class ResultsError(ValueError):
    """A results file or dict that breaks the schema; the message names the source and field."""


def build_results(testset: str, method: str, images: list[dict], conventions: dict,
                  config_hash: str | None, dataset_hash: str,
                  refused: list[dict] | None = None) -> dict:
    """A validated results dict; ``summary`` is the mean of each metric over ``images``;
    ``refused`` (``{name, reason}`` rows), when given, lists the images left unscored."""
    keys = [k for k in METRIC_TABLE if images and k in images[0]]
    summary = {k: _mean([row[k] for row in images]) for k in keys}
    results = {'testset': testset, 'method': method, 'summary': summary, 'images': images,
               'conventions': conventions, 'config_hash': config_hash,
               'dataset_hash': dataset_hash}
    if refused:
        results['refused'] = refused
    plugin = {k: describe(k) for k in keys if k not in SHIPPED_KEYS}
    if plugin:
        results['metrics'] = plugin
    validate_results(results, '<results>')
    return results


def write_results(path: str | os.PathLike, results: dict) -> Path:
    """Validate ``results`` and write it to ``path`` through a temporary file."""
    validate_results(results, str(path))
    atomic_write_json(path, results)
    return Path(path)


LEGACY_PROTOCOL = 'mprnet_matlab'   # what scored every results file written before protocols


def read_results(path: str | os.PathLike) -> dict:
    """Load and validate a results file; one written before protocols were recorded (no
    ``conventions.protocol``) reads as ``mprnet_matlab``, the arithmetic that wrote it."""
    path = Path(path)
    try:
        results = json.loads(path.read_text())
    except FileNotFoundError:
        raise ResultsError(f'{path}: results file not found') from None
    except json.JSONDecodeError as err:
        raise ResultsError(f'{path}: not valid JSON ({err})') from None
    conventions = results.get('conventions') if isinstance(results, dict) else None
    if isinstance(conventions, dict) and 'protocol' not in conventions:
        conventions['protocol'] = LEGACY_PROTOCOL
    validate_results(results, str(path))
    try:
        learn(results.get('metrics', {}), str(path))
    except ValueError as err:
        raise ResultsError(str(err)) from None
    return results


def validate_results(results, source: str) -> None:
    """Raise ``ResultsError`` naming ``source`` and the first bad field."""
    def fail(field, problem):
        raise ResultsError(f'{source}: {field}: {problem}')

    if not isinstance(results, dict):
        fail('<root>', f'expected an object, got {type(results).__name__}')
    missing = [f for f in FIELDS if f not in results]
    extra = sorted(set(results) - set(FIELDS) - set(OPTIONAL_FIELDS))
    if missing:
        fail(missing[0], 'missing')
    if extra:
        fail(extra[0], 'unknown field')
    for field in ('testset', 'method', 'dataset_hash'):
        if not isinstance(results[field], str) or not results[field]:
            fail(field, f'expected a non-empty string, got {results[field]!r}')
    if results['config_hash'] is not None and not isinstance(results['config_hash'], str):
        fail('config_hash', f'expected a string or null, got {results["config_hash"]!r}')

    conventions = results['conventions']
    if not isinstance(conventions, dict):
        fail('conventions', 'expected an object')
    for key in CONVENTION_KEYS:
        if key not in conventions:
            fail(f'conventions.{key}', 'missing')
    if not isinstance(conventions['protocol'], str) or not conventions['protocol']:
        fail('conventions.protocol', f'expected a protocol name, got {conventions["protocol"]!r}')

    described = results.get('metrics', {})
    if not isinstance(described, dict):
        fail('metrics', 'expected an object of metric rows')
    for key, row in described.items():
        if not isinstance(row, dict) or sorted(row) != sorted(DESCRIBED):
            fail(f'metrics.{key}', f'expected {{{", ".join(DESCRIBED)}}}, got {row!r}')
    summary = results['summary']
    if not isinstance(summary, dict) or not summary:
        fail('summary', 'expected a non-empty object of metric means')
    for key, value in summary.items():
        if key not in METRIC_TABLE and key not in described:
            fail(f'summary.{key}', f'unknown metric; known: {", ".join(METRIC_TABLE)}')
        if not _is_number(value):
            fail(f'summary.{key}', f'expected a number, got {value!r}')

    images = results['images']
    if not isinstance(images, list) or not images:
        fail('images', 'expected a non-empty list of per-image rows')
    names = set()
    for i, row in enumerate(images):
        where = f'images[{i}]'
        if not isinstance(row, dict):
            fail(where, 'expected an object')
        name = row.get('name')
        if not isinstance(name, str) or not name:
            fail(f'{where}.name', f'expected a non-empty string, got {name!r}')
        if name in names:
            fail(f'{where}.name', f'duplicate image name {name!r}')
        names.add(name)
        if set(row) - {'name'} != set(summary):
            fail(where, f'metric keys {sorted(set(row) - {"name"})} differ from summary '
                        f'{sorted(summary)}')
        for key in summary:
            if not _is_number(row[key]):
                fail(f'{where}.{key}', f'expected a number, got {row[key]!r}')
    for i, row in enumerate(results.get('refused', [])):
        if not (isinstance(row, dict) and set(row) == {'name', 'reason'}
                and all(isinstance(v, str) and v for v in row.values())):
            fail(f'refused[{i}]', f'expected {{name, reason}} strings, got {row!r}')
        if row['name'] in names:
            fail(f'refused[{i}].name', f'{row["name"]!r} is also a scored image')
    for key, value in summary.items():
        mean = _mean([row[key] for row in images])
        if not (value == mean or math.isclose(value, mean, rel_tol=1e-9, abs_tol=1e-12)):
            fail(f'summary.{key}', f'{value} is not the mean of the image rows ({mean})')


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
