"""Read the results store: run directories, results files, complexity and training logs."""
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from danet.evaluation.metric_table import METRIC_TABLE as METRICS
from danet.evaluation.results import read_results

DEFAULT_PROTOCOL = 'mprnet_matlab'   # danet's default; results files from before protocols


class _LowerIsBetter:
    """``metric in LOWER_IS_BETTER``: read from the metric table when asked (rows that results
    files describe are added as they are read)."""

    def __contains__(self, metric) -> bool:
        spec = METRICS.get(metric)
        return spec is not None and not spec.higher_is_better


LOWER_IS_BETTER = _LowerIsBetter()


class AnalysisError(ValueError):
    """Bad or missing stored input; the message names the file and field."""


def read_json(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError as err:
        raise AnalysisError(f'{path}: file not found') from err
    except json.JSONDecodeError as err:
        raise AnalysisError(f'{path}: not valid JSON ({err})') from err
    if not isinstance(data, dict):
        raise AnalysisError(f'{path}: expected a JSON object, got {type(data).__name__}')
    return data


def _axis_label(axis: dict) -> str:
    """An axis entry of run.json (``{label, value}``) as shown: its label, else its value."""
    return str(axis.get('label', axis.get('value')))


BASE = 'base'   # the method name of a grid's base run (no axis changed)


@dataclass
class Run:
    """One run directory (a grid run, a plain run, or an ``eval_folder`` output)."""

    path: Path
    meta: dict = field(default_factory=dict)           # run.json, empty when absent
    complexity: dict = field(default_factory=dict)     # complexity.json, empty when absent
    results: dict[str, dict] = field(default_factory=dict)   # testset -> results JSON
    label: str | None = None     # a name given by the caller (``analysis rank``'s manifest)
    seed_given: int | None = None   # its seed, for a run without run.json

    @property
    def source(self) -> str:
        return 'grid' if self.meta else 'eval'

    @property
    def seed(self):
        return self.meta.get('seed', self.seed_given)

    @property
    def axes(self) -> dict:
        return {key: axis for key, axis in self.meta.get('axes', {}).items()
                if not key.split('.')[-1].endswith('seed')}

    @property
    def base_axes(self) -> dict[str, str]:
        """The base config's label per grid axis (empty for a run.json older than the field)."""
        return {key: _axis_label(axis)
                for key, axis in self.meta.get('base_axes', {}).items()
                if not key.split('.')[-1].endswith('seed')}

    @property
    def method(self) -> str:
        """Display name: the given label, the grid variant (axis labels, seed excluded) or the
        results' method."""
        if self.label:
            return self.label
        if self.meta:
            labels = [_axis_label(axis) for axis in self.axes.values()]
            return ' / '.join(labels) if labels else BASE
        methods = {r['method'] for r in self.results.values()}
        return methods.pop() if len(methods) == 1 else self.path.name


def load_run(run_dir: Path) -> Run:
    run = Run(path=run_dir)
    if (run_dir / 'run.json').is_file():
        run.meta = read_json(run_dir / 'run.json')
    if (run_dir / 'complexity.json').is_file():
        run.complexity = read_json(run_dir / 'complexity.json')
    for path in sorted((run_dir / 'results').glob('*.json')):
        data = read_results(path)
        run.results[data['testset']] = data
    return run


GRID_INDEX = 'GRID.json'   # ablations/rundir.py: the run ids a grid file has now


def left_out_reason(run_dir: Path, meta: dict) -> str | None:
    """Why a grid run folder is not one of its grid's runs now, or None: a run that is not
    finished, or one whose id the grid's ``GRID.json`` (beside the runs) does not list."""
    if not (run_dir / 'DONE.json').is_file():
        return 'unfinished (no DONE.json)'
    index = run_dir.parent / GRID_INDEX
    if not index.is_file():
        return None
    owned = read_json(index)
    if meta.get('grid') == owned.get('grid') and meta.get('run_id') not in owned.get('run_ids',
                                                                                    []):
        return (f'no cell of grid {owned.get("grid")} any more ({index}); '
                f'`python -m ablations prune {owned.get("path", owned.get("grid"))}` removes it')
    return None


def discover_runs(work_dirs, left_out: list[tuple[Path, str]] | None = None) -> list[Run]:
    """Runs under ``work_dirs`` with ``results/*.json``. Grid runs that are unfinished or that
    their grid no longer has (``left_out_reason``) are skipped, each printed and appended to
    ``left_out`` as ``(folder, reason)``."""
    runs = []
    for root in map(Path, work_dirs):
        if not root.is_dir():
            raise AnalysisError(f'{root}: work directory not found')
        run_dirs = sorted({p.parent.parent for p in root.glob('**/results/*.json')})
        for run_dir in run_dirs:
            if (run_dir / 'run.json').is_file():
                why = left_out_reason(run_dir, read_json(run_dir / 'run.json'))
                if why:
                    print(f'[analysis] leaving out {run_dir}: {why}')
                    if left_out is not None:
                        left_out.append((run_dir, why))
                    continue
            runs.append(load_run(run_dir))
    if not runs:
        raise AnalysisError(f'no results/*.json found under {", ".join(map(str, work_dirs))}'
                            + (f' (left out: {len(left_out)} run folder(s))' if left_out else ''))
    return runs


def macs_shape(complexity: dict) -> str | None:
    """``256×256``: the input height × width the MACs of ``complexity.json`` were counted at."""
    shape = complexity.get('shape')
    return '×'.join(map(str, shape[-2:])) if isinstance(shape, list) and len(shape) >= 2 else None


def _convention_key(data: dict) -> str:
    return json.dumps(data['conventions'], sort_keys=True)


def protocol_label(conventions: dict) -> str:
    """``prenet_matlab``, or ``basicsr crop 4`` when a border is cropped."""
    crop = conventions.get('crop_border', 0)
    return conventions['protocol'] + (f' crop {crop}' if crop else '')


def one_protocol(part: pd.DataFrame, where: str) -> str:
    """The single protocol of the rows that share a column; ``AnalysisError`` naming them when
    results of different evaluation protocols would be ranked or averaged together."""
    found = sorted(part['protocol'].dropna().unique()) if 'protocol' in part else []
    if len(found) > 1:
        raise AnalysisError(f'{where}: results of different evaluation protocols '
                            f'({", ".join(found)}) cannot share a column; re-evaluate them '
                            'under one protocol (tools/test.py --protocol NAME)')
    return found[0] if found else ''


def tidy(runs: list[Run]) -> pd.DataFrame:
    """One row per run × test set × metric, with axes, seed, complexity, hashes and flags."""
    rows = []
    for run in runs:
        base = {
            'source': run.source, 'run_dir': str(run.path), 'grid': run.meta.get('grid'),
            'run_id': run.meta.get('run_id', run.path.name), 'method': run.method,
            'seed': run.seed, 'params': run.complexity.get('params', math.nan),
            'gmacs': run.complexity.get('gmacs', math.nan),
            'macs_shape': macs_shape(run.complexity),
        }
        base.update({f'axis:{key}': _axis_label(axis)
                     for key, axis in run.axes.items()})
        base.update({f'base:{key}': label for key, label in run.base_axes.items()})
        base.update({f'axis_name:{key}': name
                     for key, name in run.meta.get('axis_names', {}).items()})
        for testset, data in run.results.items():
            for metric in METRICS:
                value = data['summary'].get(metric)
                rows.append({**base, 'testset': testset, 'metric': metric,
                             'value': math.nan if value is None else float(value),
                             'n_images': len(data['images']),
                             'config_hash': data['config_hash'],
                             'dataset_hash': data['dataset_hash'],
                             'conventions': _convention_key(data),
                             'protocol': protocol_label(data['conventions'])})
    df = pd.DataFrame(rows)
    return flag_mixed(df)


def flag_mixed(df: pd.DataFrame) -> pd.DataFrame:
    """Mark test sets whose rows come from different data or metric conventions.

    Such rows get ``mixed=True`` and a ``testset_key`` that says in words what sets their group
    apart (``Rain100L [crop_border 4]``, ``Rain100L [prenet_matlab]``, ``Rain100L [ground
    truth 2]``), so grouping by ``testset_key`` never averages them together.
    """
    df = df.copy()
    df['testset_key'] = df['testset']
    df['mixed'] = False
    for testset, part in df.groupby('testset'):
        groups = part[['dataset_hash', 'conventions']].drop_duplicates()
        if len(groups) < 2:
            continue
        words = group_words(list(groups.itertuples(index=False, name=None)))
        for (data_hash, conv), text in zip(groups.itertuples(index=False, name=None), words,
                                           strict=True):
            rows = ((df['testset'] == testset) & (df['dataset_hash'] == data_hash)
                    & (df['conventions'] == conv))
            df.loc[rows, 'testset_key'] = f'{testset} [{text}]'
            df.loc[rows, 'mixed'] = True
        print(f'[analysis] WARNING: test set {testset!r} mixes dataset hashes or metric '
              'conventions; its groups are reported separately, not averaged')
    return df


def differing_conventions(conventions: list[dict]) -> list[str]:
    """The convention keys whose values differ among ``conventions``."""
    keys = dict.fromkeys(k for c in conventions for k in c)
    return [k for k in keys if len({json.dumps(c.get(k)) for c in conventions}) > 1]


def group_words(groups: list[tuple[str, str]]) -> list[str]:
    """Words telling apart (dataset hash, conventions JSON) groups of one test set: the protocol
    when protocols differ, else the differing convention values; ``ground truth N`` when the
    data differ."""
    convs = [json.loads(c) for _, c in groups]
    hashes = list(dict.fromkeys(h for h, _ in groups))
    differ = differing_conventions(convs)
    out = []
    for (data_hash, _), conv in zip(groups, convs, strict=True):
        if 'protocol' in differ:
            crop = conv.get('crop_border')
            parts = [f'{conv["protocol"]}' + (f' crop {crop}' if crop else '')]
        else:
            parts = [f'{k} {conv.get(k)}' for k in differ]
        if len(hashes) > 1:
            parts.append(f'ground truth {hashes.index(data_hash) + 1}')
        out.append(', '.join(parts))
    return out


def per_image(runs: list[Run], metric: str = 'psnr_y') -> pd.DataFrame:
    """One row per run × test set × image with ``metric`` and the results' protocol."""
    rows = [{'method': run.method, 'seed': run.seed, 'testset': testset, 'name': row['name'],
             'value': row.get(metric), 'protocol': protocol_label(data['conventions'])}
            for run in runs for testset, data in run.results.items() for row in data['images']]
    return pd.DataFrame(rows).dropna(subset=['value'])


def _protocols_in(node) -> list[str]:
    """Every ``DerainMetric``'s protocol label in an evaluator config (its default when unset)."""
    found = []
    if isinstance(node, dict):
        if node.get('type') == 'DerainMetric':
            spec = node.get('protocol') or DEFAULT_PROTOCOL
            if isinstance(spec, dict):
                spec = protocol_label({'protocol': spec.get('type', DEFAULT_PROTOCOL),
                                       'crop_border': spec.get('crop_border', 0)})
            found.append(str(spec))
        for value in node.values():
            found += _protocols_in(value)
    elif isinstance(node, list | tuple):
        for value in node:
            found += _protocols_in(value)
    return found


def validation_protocol(run_dir: Path) -> str | None:
    """The protocol of the run's ``val_evaluator``, read from its stored config (the grid's
    ``config.py``, else MMEngine's ``vis_data/config.py``); None without a readable config."""
    from mmengine.config import Config
    for path in [run_dir / 'config.py', *sorted(run_dir.glob('**/vis_data/config.py'))]:
        if path.is_file():
            try:
                cfg = Config.fromfile(str(path), import_custom_modules=False)
            except Exception as err:   # noqa: BLE001 - any failure: name the file, go on
                print(f'[analysis] {path}: config not readable ({err}); validation protocol '
                      'unknown')
                return None
            found = list(dict.fromkeys(_protocols_in(cfg.to_dict().get('val_evaluator'))))
            return ' / '.join(found) or None
    return None


def training_curves(runs: list[Run]) -> pd.DataFrame:
    """Losses (total ``loss`` and each ``loss_<term>``) and validation metrics from MMEngine
    ``scalars.json`` logs (one row per value), with the run's validation ``protocol``.

    ``step`` is the training iteration. Epoch-based runs log validation with ``step`` = epoch;
    such a value is moved to the last iteration of that epoch so both curves share one axis.
    """
    rows = []
    for run in runs:
        logs = sorted(run.path.glob('**/scalars.json'))
        protocol = validation_protocol(run.path) if logs else None
        for log in logs:
            entries = []
            for n, line in enumerate(log.read_text().splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise AnalysisError(f'{log}:{n}: not a JSON line ({err})') from err
            last_iter_of_epoch = {e['epoch']: e['iter'] for e in entries
                                  if 'epoch' in e and 'iter' in e}
            for entry in entries:
                step = entry.get('step', entry.get('iter'))
                if 'iter' not in entry and last_iter_of_epoch:
                    step = last_iter_of_epoch.get(step, step)
                for key, value in entry.items():
                    name = key.split('/')[-1]
                    wanted = name.startswith('loss') or name in METRICS
                    if isinstance(value, int | float) and wanted:
                        rows.append({'method': run.method, 'seed': run.seed,
                                     'run_dir': str(run.path), 'step': step,
                                     'key': name, 'value': float(value),
                                     'protocol': protocol})
    return pd.DataFrame(rows, columns=['method', 'seed', 'run_dir', 'step', 'key', 'value',
                                       'protocol'])
