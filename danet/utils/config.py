"""Loading configs for every entry point (``danet::PATH`` accepted, plug-ins imported with
one-line errors), and checks that run before any work: ``--cfg-options`` keys, registered
types and dataset paths.

MMEngine merges an unknown ``--cfg-options`` key silently (a typo trains the default). Here each
dotted key must already exist in the loaded config; a key written ``+a.b`` is a deliberate new
key and is accepted (its ``+`` is removed before merging).
"""
import argparse
import difflib
import importlib
import traceback
import warnings
from pathlib import Path

from mmengine.config import Config, DictAction

from danet.config_refs import PACKAGE_PREFIX, shipped_config

NEW_KEY_PREFIX = '+'
# Dataset arguments that name a file the dataset reads.
DATASET_PATH_KEYS = ('ann_file', 'data_root')


def load_config(config: str | Path) -> Config:
    """``Config.fromfile`` for every entry point: ``config`` may itself be ``danet::PATH``, and a
    plug-in's ``custom_imports`` are imported by :func:`import_plugins` (one-line errors)."""
    config = str(config)
    path = shipped_config(config) if config.startswith(PACKAGE_PREFIX) else Path(config)
    if not path.is_file():
        raise FileNotFoundError(f'config not found: {config}')
    cfg = Config.fromfile(str(path), import_custom_modules=False)
    import_plugins(cfg)
    return cfg


def import_plugins(cfg: Config) -> None:
    """Import ``cfg.custom_imports`` (MMEngine's key: ``dict(imports=[...],
    allow_failed_imports=False)``); a module that fails raises an ``ImportError`` naming the
    config, the module, the failing file and line, and the fix."""
    spec = cfg.get('custom_imports') or {}
    names = spec.get('imports', [])
    for name in [names] if isinstance(names, str) else names:
        try:
            importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - a plug-in's import may fail in any way
            if spec.get('allow_failed_imports'):
                warnings.warn(f'{cfg.filename}: custom_imports skipped {name!r} ({err})',
                              stacklevel=2)
                continue
            raise ImportError(f'{cfg.filename}: custom_imports cannot import {name!r}: '
                              f'{_failure(err, name)}') from None


def _failure(err: Exception, name: str) -> str:
    """What failed where, and the fix, for :func:`import_plugins`."""
    if isinstance(err, ModuleNotFoundError) and name.startswith(err.name or '\0'):
        return (f'no module {err.name!r} on the path; put the folder that holds it on '
                'PYTHONPATH or install it (pip install -e DIR)')
    if isinstance(err, SyntaxError):
        where = f'{err.filename}:{err.lineno}'
    else:  # the innermost frame in a file (not importlib's frozen bootstrap)
        frames = [f for f in traceback.extract_tb(err.__traceback__)
                  if not f.filename.startswith('<')]
        where = f'{frames[-1].filename}:{frames[-1].lineno}' if frames else name
    return f'{type(err).__name__}: {err} (at {where}); fix that file'


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options every run tool shares: ``--cfg-options``, ``--launcher`` and torchrun's rank."""
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override existing keys, key=value; prefix "+" adds a new key')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0,
                        help=argparse.SUPPRESS)


def flatten_keys(node, prefix: str = '') -> list[str]:
    """Every dotted key of a nested dict/list config (list items by index)."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list | tuple):
        items = ((str(i), v) for i, v in enumerate(node))
    else:
        return []
    keys = []
    for key, value in items:
        dotted = f'{prefix}{key}'
        keys.append(dotted)
        keys.extend(flatten_keys(value, dotted + '.'))
    return keys


_MISSING = object()


def value_at(tree, dotted: str, default=None):
    """The value at a dotted key of a nested dict/list config (list items by index), or
    ``default`` where the config lacks the key."""
    node = tree
    for part in dotted.split('.'):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list | tuple) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return default
    return node


def check_cfg_options(cfg: Config, options: dict | None) -> dict:
    """Return ``options`` ready for ``cfg.merge_from_dict``; raise ``ValueError`` on unknown keys
    and on values whose type does not fit the config's value (:func:`type_problem`).

    An unknown key's error names the closest existing keys. Prefix a key with ``+`` to add it
    deliberately (e.g. a constructor argument the config leaves at its default).
    """
    checked = {}
    tree = cfg.to_dict()
    known = None
    for key, value in (options or {}).items():
        if key.startswith(NEW_KEY_PREFIX):
            checked[key[len(NEW_KEY_PREFIX):]] = value
            continue
        if value_at(tree, key, _MISSING) is _MISSING:
            known = known or flatten_keys(tree)
            close = difflib.get_close_matches(key, known, n=5, cutoff=0.6)
            hint = f' Closest existing keys: {", ".join(close)}.' if close else ''
            raise ValueError(f'--cfg-options: {key!r} is not a key of {cfg.filename}.{hint} '
                           f'To add a new key deliberately, write it as "{NEW_KEY_PREFIX}{key}".')
        problem = type_problem(value_at(tree, key), value)
        if problem:
            raise ValueError(f'--cfg-options: {key}={value!r} {problem} (the value in '
                             f'{cfg.filename} is {value_at(tree, key)!r})')
        checked[key] = value
    return checked


def type_problem(current, value) -> str | None:
    """Why ``value`` cannot replace ``current`` (the config's value), or None. An int may
    replace a float; None accepts anything; a dict or list must stay a dict or list."""
    if current is None:
        return None
    expected = type(current)
    if isinstance(current, bool):
        ok = isinstance(value, bool)
    elif isinstance(current, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(current, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif isinstance(current, list | tuple):
        ok, expected = isinstance(value, list | tuple), list
    elif isinstance(current, dict):
        ok, expected = isinstance(value, dict), dict
    else:
        ok = isinstance(value, expected)
    return None if ok else f'is a {type(value).__name__}, expected a {expected.__name__}'


# Top-level config sections whose ``type`` entries the Runner builds from the registries; other
# keys (a grid's own stage options, say) belong to whoever reads them and are not checked.
BUILT_SECTIONS = ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg',
                  'val_cfg', 'test_cfg', 'val_evaluator', 'test_evaluator', 'optim_wrapper',
                  'param_scheduler', 'default_hooks', 'custom_hooks', 'visualizer',
                  'log_processor')


def check_types(cfg: Config) -> None:
    """Raise ``KeyError`` naming the config key, type and closest names of every ``type`` in a
    section the Runner builds (``BUILT_SECTIONS``) that no registry of the ``danet`` scope (or
    MMEngine's, its parents) knows."""
    from mmengine.runner import Runner  # noqa: F401 - registers MMEngine's loops, hooks, ...

    from danet.registry import ALL_REGISTRIES
    known = {name for registry in ALL_REGISTRIES.values() for name in registry.all_names()}
    tree = cfg.to_dict()
    unknown = []
    for key in flatten_keys(tree):
        value = value_at(tree, key)
        if key.split('.')[0] in BUILT_SECTIONS and key.split('.')[-1] == 'type' \
                and isinstance(value, str) and value.split('.')[-1] not in known:
            close = difflib.get_close_matches(value, sorted(known), n=3, cutoff=0.6)
            unknown.append(f'{key} = {value!r}' + (f' (closest: {", ".join(close)})'
                                                   if close else ''))
    if unknown:
        raise KeyError(f'{cfg.filename}: unregistered type(s): ' + '; '.join(unknown) +
                       '. Register the class with @MODELS.register_module() (or the registry of '
                       'its kind, danet.registry) in a module the config lists in custom_imports')


def dataset_configs(cfg: Config) -> dict[str, dict]:
    """``{dotted config key: dataset dict}`` for the train, val and test dataloaders present."""
    found = {}
    for loader_key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loaders = cfg.get(loader_key)
        if loaders is None:
            continue
        if isinstance(loaders, dict):
            found[f'{loader_key}.dataset'] = loaders['dataset']
        else:
            for index, loader in enumerate(loaders):
                found[f'{loader_key}.{index}.dataset'] = loader['dataset']
    return found


def check_dataset_paths(cfg: Config, loader_keys=('train_dataloader', 'val_dataloader',
                                                  'test_dataloader')) -> None:
    """Raise ``FileNotFoundError`` naming the config key and path of every missing dataset file."""
    missing = []
    for key, dataset in dataset_configs(cfg).items():
        if not key.startswith(tuple(loader_keys)):
            continue
        for arg in DATASET_PATH_KEYS:
            path = dataset.get(arg)
            if path is not None and not Path(path).exists():
                missing.append(f'{key}.{arg} = {path}')
    if missing:
        raise FileNotFoundError('dataset path(s) not found (set them with --cfg-options KEY=PATH):'
                                '\n  ' + '\n  '.join(missing))
