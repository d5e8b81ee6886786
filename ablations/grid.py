"""Grid files (``ablations/<name>.py``) and their expansion into runs.

A grid file is plain data (module-level names)::

    base = 'configs/danet/danet_1xb16-1000e_rain13k.py'          # relative to the repository root
    axes = {'model.generator.alm.type': [('w/o ALM', 'PlainALM'), ...], ...}
    mode = 'one_at_a_time'                            # or 'factorial'
    seeds = [0, 1, 2]
    testsets = ['Rain100L', 'Mine=data/mine']         # results/<name>.json each run must write
    cfg_options = {'train_cfg.max_iters': 100}        # optional, applied to every run
    include = [{...}]; exclude = [{...}]              # optional (see cells)
    seed_key = 'randomness.seed'                      # optional
    macs_shape = [3, 256, 256]                        # optional, for the macs stage
    stages = ['test']                                 # optional stage names (default: all three)
    base_labels = {'model.generator.alm.mask.type': 'learned mask'}   # optional (see base_axes)
    axis_names = {'model.generator.alm.mask.type': 'Mask'}            # optional table headers

``base`` is relative to the repository root, or, for a grid file outside the clone (a plug-in's
grid), to the grid file's folder where that file exists; ``danet::PATH`` names a shipped config.
``testsets`` entries are the base config's test set names or, as ``tools/test.py --testsets``
takes them, ``NAME=PATH`` (a packed ``.h5`` or a folder of pairs; a relative PATH is read from the
grid file's folder, else the repository root). Every NAME passes ``danet.utils.names``.

Axis values are plain values (label ``str(value)``) or ``(label, value)`` pairs.

Evaluate-only cells: a cell key ``checkpoint`` (an axis or an ``include`` key; not a config
option) names a checkpoint to evaluate; that run skips training (``stages.grid_stages``) and its
test stage uses it. ``mode = 'listed'`` runs exactly the ``include`` cells (``axes`` may be
empty), e.g. one (model, checkpoint) pair per cell.
"""
import copy
import difflib
import hashlib
import itertools
import json
import re
import runpy
import traceback
from pathlib import Path

from mmengine.config import Config

from ablations.spec import FORMER_CONFIG_PATHS, REPO_ROOT, AxisValue, Grid, GridError, RunSpec
from ablations.stages import STAGES, StageError, grid_stages, resolve_stages
from danet.config_refs import PACKAGE_PREFIX, shipped_config
from danet.utils.config import (
    check_cfg_options,
    check_dataset_paths,
    check_types,
    load_config,
    value_at,
)
from danet.utils.names import BadNameError, check_unique
from danet.utils.provenance import config_hash

GRID_DIR = Path(__file__).resolve().parent
REQUIRED_KEYS = ('base', 'axes', 'mode', 'seeds', 'testsets')
OPTIONAL_KEYS = ('cfg_options', 'include', 'exclude', 'seed_key', 'macs_shape', 'stages',
                 'base_labels', 'axis_names')
MODES = ('factorial', 'one_at_a_time', 'listed')
CHECKPOINT_KEY = 'checkpoint'   # cell key: evaluate this checkpoint instead of training
BASE_LABEL = 'base'


def resolve_grid_path(name_or_path: str) -> Path:
    """``danet_components`` or ``ablations/danet_components.py`` -> the grid file path."""
    path = Path(name_or_path)
    if path.suffix != '.py':
        path = GRID_DIR / f'{name_or_path}.py'
    if not path.is_file():
        raise GridError(f'grid file not found: {path}')
    return path.resolve()


def load_grid(name_or_path: str) -> Grid:
    """Read and validate a grid file; errors name the file and the offending key."""
    path = resolve_grid_path(name_or_path)
    names = {k: v for k, v in _run_grid_file(path).items() if not k.startswith('_')}
    unknown = sorted(set(names) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    missing = [k for k in REQUIRED_KEYS if k not in names]
    if unknown:
        allowed = REQUIRED_KEYS + OPTIONAL_KEYS
        raise GridError(f'{path}: unknown key(s) {unknown}{_did_you_mean(unknown[0], allowed)}; '
                        f'allowed: {list(allowed)}')
    if missing:
        raise GridError(f'{path}: missing required key(s) {missing}')
    if names['mode'] not in MODES:
        raise GridError(f'{path}: mode={names["mode"]!r}; expected one of {MODES}')
    if not isinstance(names['axes'], dict):
        raise GridError(f'{path}: axes must be a dict of dotted key -> list of values')
    axes = {key: [_axis_value(path, key, v) for v in _nonempty_list(path, f'axes[{key!r}]', vals)]
            for key, vals in names['axes'].items()}
    for key, values in axes.items():
        labels = [v.label for v in values]
        if len(set(labels)) != len(labels):
            raise GridError(f'{path}: axes[{key!r}] has duplicate labels {labels}')
        for i, first in enumerate(values):
            twin = next((v for v in values[i + 1:] if type(v.value) is type(first.value)
                         and v.value == first.value), None)
            if twin is not None:
                raise GridError(f'{path}: axes[{key!r}]: labels {first.label!r} and '
                                f'{twin.label!r} give the same value {first.value!r} (two runs '
                                'of one config); keep one')
    _check_exclude(path, names.get('exclude', []), axes)
    for name in ('base_labels', 'axis_names'):
        given = names.get(name, {})
        if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
            raise GridError(f'{path}: {name} must be a dict of axis key -> str, got {given!r}')
        if set(given) - set(axes):
            raise GridError(f'{path}: {name} names key(s) that are not axes: '
                            f'{sorted(set(given) - set(axes))}')
    seeds = _nonempty_list(path, 'seeds', names['seeds'])
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise GridError(f'{path}: seeds must be integers, got {seeds}')
    if 'stages' in names:
        try:
            names['stages'] = resolve_stages(_nonempty_list(path, 'stages', names['stages']))
        except StageError as err:
            raise GridError(f'{path}: stages: {err}') from None
    testsets = parse_testsets(_nonempty_list(path, 'testsets', names['testsets']), path.parent,
                              f'{path}: testsets')
    grid = Grid(name=path.stem, path=path, base=grid_base(path, names['base']), axes=axes,
                mode=names['mode'], seeds=list(seeds), testsets=list(testsets),
                testset_paths={n: p for n, p in testsets.items() if p is not None},
                **{k: names[k] for k in OPTIONAL_KEYS if k in names})
    if not (REPO_ROOT / grid.base).is_file():
        raise GridError(f'{path}: base config not found: {names["base"]} ({grid.base})')
    return grid


def parse_testsets(entries, folder: Path, what: str) -> dict[str, str | None]:
    """``NAME`` or ``NAME=PATH`` entries -> {name: absolute path or None (a config test set)}.

    Each NAME passes the name gate (``check_unique``); a relative PATH is read from ``folder``
    where it exists there, else from the repository root (where the stages run). Raises
    ``GridError`` naming ``what`` and the entry."""
    if not all(isinstance(e, str) for e in entries):
        raise GridError(f'{what}: entries must be strings NAME or NAME=PATH, got {entries!r}')
    pairs = [e.partition('=')[::2] for e in entries]
    try:
        check_unique([name for name, _ in pairs], f'{what}: test set name')
    except BadNameError as err:
        raise GridError(str(err)) from None
    found = {}
    for entry, (name, given) in zip(entries, pairs, strict=True):
        if '=' not in entry:
            found[name] = None
            continue
        if not given:
            raise GridError(f'{what}: {entry!r} has an empty PATH; give NAME=PATH (a packed .h5 '
                            'or a folder of pairs)')
        path = Path(given).expanduser()
        if not path.is_absolute():
            path = folder / path if (folder / path).exists() else REPO_ROOT / path
        found[name] = str(path.resolve())   # a missing one is reported by check_runs
    return found


def grid_base(path: Path, base: str) -> str:
    """``base`` as the grid's runs name it: repository-relative, or absolute for a grid outside
    the clone whose folder holds it (``danet::PATH`` → the shipped config's file)."""
    if base.startswith(PACKAGE_PREFIX):
        try:
            return str(shipped_config(base))
        except FileNotFoundError as err:
            raise GridError(f'{path}: {err}') from None
    beside = path.parent / base
    if not path.is_relative_to(REPO_ROOT) and beside.is_file():
        return str(beside.resolve())
    return base


def _run_grid_file(path: Path) -> dict:
    """The grid file's module-level names; a file that does not run is one ``GridError``
    naming the file and line."""
    try:
        return runpy.run_path(str(path))
    except SyntaxError as err:
        raise GridError(f'{path}, line {err.lineno}: syntax error: {err.msg}') from None
    except Exception as err:
        lines = [f.lineno for f in traceback.extract_tb(err.__traceback__)
                 if f.filename == str(path)]
        where = f', line {lines[-1]}' if lines else ''
        raise GridError(f'{path}{where}: {type(err).__name__}: {err}') from None


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f' (did you mean {close[0]!r}?)' if close else ''


def _check_exclude(path: Path, exclude, axes: dict[str, list[AxisValue]]) -> None:
    """Every ``exclude`` pattern names axes and, for each, one of its labels or values (a
    misspelt pattern would silently exclude nothing)."""
    for i, pattern in enumerate(_nonempty_list(path, 'exclude', exclude) if exclude else []):
        if not isinstance(pattern, dict) or not pattern:
            raise GridError(f'{path}: exclude[{i}] must be a non-empty dict of axis key -> '
                            f'label or value, got {pattern!r}')
        for key, wanted in pattern.items():
            if key not in axes:
                raise GridError(f'{path}: exclude[{i}]: {key!r} is not an axis'
                                f'{_did_you_mean(key, axes)}; axes: {list(axes)}')
            if not any(wanted in (v.label, v.value) for v in axes[key]):
                labels = [v.label for v in axes[key]]
                raise GridError(f'{path}: exclude[{i}]: {wanted!r} is no label or value of '
                                f'{key!r}{_did_you_mean(str(wanted), labels)}; labels: {labels}')


def _nonempty_list(path: Path, key: str, value) -> list:
    if not isinstance(value, list | tuple) or not value:
        raise GridError(f'{path}: {key} must be a non-empty list, got {value!r}')
    return list(value)


def _axis_value(path: Path, key: str, item) -> AxisValue:
    if isinstance(item, tuple):
        if len(item) != 2 or not isinstance(item[0], str):
            raise GridError(f'{path}: axes[{key!r}] item {item!r} must be (label, value)')
        return AxisValue(*item)
    return AxisValue(str(item), item)


def cells(grid: Grid) -> list[dict[str, AxisValue]]:
    """The axis assignments of the grid, before seeds.

    ``factorial``: every combination of the axes' values. ``one_at_a_time``: the base (no axis
    set) then each value of each axis alone. ``exclude`` drops every cell matching one of its
    patterns ({key: label or value}, all keys must match); ``include`` appends extra cells
    ({key: value or (label, value)}) not already present (``listed``: only those).
    """
    if grid.mode == 'factorial':
        keys = list(grid.axes)
        found = [dict(zip(keys, combo, strict=True))
                 for combo in itertools.product(*grid.axes.values())]
    elif grid.mode == 'listed':
        found = []
    else:
        found = [{}] + [{key: v} for key, values in grid.axes.items() for v in values]
    found = [c for c in found if not any(_matches(c, pattern) for pattern in grid.exclude)]
    for extra in grid.include:
        cell = {k: _axis_value(grid.path, k, v) for k, v in extra.items()}
        if cell not in found:
            found.append(cell)
    return found


def _matches(cell: dict[str, AxisValue], pattern: dict) -> bool:
    return all(k in cell and pattern[k] in (cell[k].label, cell[k].value) for k in pattern)


def slug(cell: dict[str, AxisValue]) -> str:
    """Readable id part: the cell's labels, lower-case, ``[a-z0-9-]`` joined by ``+``."""
    if not cell:
        return BASE_LABEL
    parts = [re.sub(r'[^a-z0-9]+', '-', a.label.lower()).strip('-') or 'x' for a in cell.values()]
    return '+'.join(parts)


def _checked_options(grid: Grid, base_cfg: Config, options: dict) -> dict:
    """``check_cfg_options``, its ``ValueError`` (an unknown key) as a ``GridError`` naming the
    grid file."""
    try:
        return check_cfg_options(base_cfg, options)
    except ValueError as err:
        raise GridError(f'{grid.path}: {err.args[0]}') from None


def base_axes(grid: Grid, base_cfg: Config) -> dict[str, AxisValue]:
    """The base run's own choice at every axis key (base config with ``cfg_options``).

    Labelled by ``grid.base_labels[key]``, else by the value itself (``default`` where the base
    config lacks the key, i.e. the constructor default applies).
    """
    cfg = copy.deepcopy(base_cfg)
    cfg.merge_from_dict(_checked_options(grid, base_cfg, grid.cfg_options))
    tree = cfg.to_dict()
    found = {}
    for key in grid.axes:
        value = value_at(tree, key.removeprefix('+'))
        label = grid.base_labels.get(key, 'default' if value is None else str(value))
        found[key] = AxisValue(label, value)
    return found


def expand(grid: Grid) -> list[RunSpec]:
    """Every run of the grid (cells x seeds), in a deterministic order with deterministic ids.

    The id is ``<slug>_s<seed>_<hash8>`` where the hash covers the base path and all overrides;
    ``config_hash`` is the hash of the resolved config (base merged with the overrides). Every
    run also carries ``base_axes`` (the base's choice per axis) and the grid's ``axis_names``.
    """
    base_cfg = load_config(REPO_ROOT / grid.base)
    base_choice = base_axes(grid, base_cfg)
    runs = []
    for cell in cells(grid):
        checkpoint = cell.pop(CHECKPOINT_KEY, None)
        for seed in grid.seeds:
            overrides = {**grid.cfg_options, **{k: a.value for k, a in cell.items()},
                         grid.seed_key: seed}
            cfg = copy.deepcopy(base_cfg)
            cfg.merge_from_dict(_checked_options(grid, base_cfg, overrides))
            identity = {'base': FORMER_CONFIG_PATHS.get(grid.base, grid.base),
                        'overrides': overrides}
            if checkpoint is not None:
                identity['checkpoint'] = checkpoint.value
            identity = json.dumps(identity, sort_keys=True)
            short = hashlib.sha256(identity.encode()).hexdigest()[:8]
            runs.append(RunSpec(grid=grid.name, run_id=f'{slug(cell)}_s{seed}_{short}',
                                base=grid.base, seed=seed, axes=cell, overrides=overrides,
                                config_hash=config_hash(cfg), base_axes=base_choice,
                                axis_names=grid.axis_names,
                                checkpoint=checkpoint and str(checkpoint.value)))
    same: dict[tuple, RunSpec] = {}
    for run in runs:
        twin = same.setdefault((run.config_hash, run.checkpoint), run)
        if twin is not run:
            raise GridError(f'{grid.path}: runs {twin.run_id} and {run.run_id} resolve to the '
                            'same config (one value under two labels?); keep one cell')
    ids = [r.run_id for r in runs]
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        raise GridError(f'{grid.path}: duplicate run ids {repeated}')
    return runs


def check_runs(grid: Grid, specs: list[RunSpec]) -> list[str]:
    """Build every run's resolved config far enough to check it before anything runs: a
    ``type`` no registry knows raises a ``GridError`` naming the run, key and closest names;
    missing dataset files (train and val unless the run is evaluate-only, the grid's test sets)
    are returned, one entry per distinct problem with the runs it affects
    (for the default stages, which read the config's data)."""
    from danet.engine.runner import select_testsets

    base_cfg = load_config(REPO_ROOT / grid.base)
    bad_types, missing = [], {}
    for spec in specs:
        cfg = copy.deepcopy(base_cfg)
        cfg.merge_from_dict(_checked_options(grid, base_cfg, spec.overrides))
        try:
            check_types(cfg)
        except KeyError as err:
            bad_types.append(f'{spec.run_id}: {err.args[0]}')
        if not any(stage in STAGES.values() for stage in grid_stages(grid)):
            continue  # a grid's own stages read what they read: not checked here
        # an evaluate-only run (a cell checkpoint) reads only its test sets
        loaders = [] if spec.checkpoint else ['train_dataloader', 'val_dataloader']
        try:
            named = [t for t in grid.testsets if t not in grid.testset_paths]
            if isinstance(cfg.get('test_dataloader'), list):
                loaders += [f'test_dataloader.{i}.' for i in select_testsets(cfg, named)]
            elif cfg.get('test_dataloader') and named:
                loaders.append('test_dataloader')
            check_dataset_paths(cfg, tuple(loaders))
        except (ValueError, FileNotFoundError) as err:
            missing.setdefault(err.args[0], []).append(spec.run_id)
    for name, path in grid.testset_paths.items():
        if not Path(path).exists():
            missing.setdefault(f'testsets {name}={path}: no such file or folder',
                               []).extend(s.run_id for s in specs)
    if bad_types:
        raise GridError(f'{grid.path}: {len(bad_types)} run(s) name unregistered types:\n  ' +
                        '\n  '.join(bad_types))
    return [f'{len(ids)} run(s) ({ids[0]}{", ..." if len(ids) > 1 else ""}): {problem}'
            for problem, ids in missing.items()]
