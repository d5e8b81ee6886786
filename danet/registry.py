"""Child registries of every MMEngine root registry, scope ``danet``.

Modules register themselves when a registry is first queried: the ``danet`` package is scanned
(``ast``, nothing imported) for modules that call ``<REGISTRY>.register_module`` on the
registry's variable name (``MODELS``, ``METRICS``, ...), and those become the registry's MMEngine
``locations``. So a new model file under ``danet/models`` is found without a list to edit, and no
``__init__`` imports everything. Import registries under their own names (``from danet.registry
import MODELS``) so that the scan sees the call. An unknown ``type`` raises a ``KeyError`` that
names the registry and the closest names.
"""
import ast
import difflib
import functools
import importlib.util
import pkgutil
import sys
from pathlib import Path

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

SCOPE = 'danet'
# Types renamed when tasks other than deraining arrived → their old names, which stay registered
# (same classes) so old configs build; config hashes are taken over the old names
# (``danet.utils.provenance``), so results recorded before the rename keep matching their configs.
RENAMED_TYPES = {'RestorationModel': 'DerainModel',
                 'RestorationDataPreprocessor': 'DerainDataPreprocessor',
                 'RestorationMetric': 'DerainMetric'}


@functools.cache
def registering_modules(package: str = SCOPE) -> dict[str, tuple[str, ...]]:
    """Registry variable name -> the modules of ``package`` (subpackages included, found on
    their ``__path__`` without importing them) whose source calls ``NAME.register_module``."""
    found: dict[str, list[str]] = {}
    for module, path in _walk(package):
        source = Path(path).read_bytes()
        if b'.register_module' not in source:  # most files: no parse needed
            continue
        tree = ast.parse(source, path)
        names = {node.func.value.id for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                 and node.func.attr == 'register_module' and isinstance(node.func.value, ast.Name)}
        for name in sorted(names):
            found.setdefault(name, []).append(module)
    return {name: tuple(modules) for name, modules in found.items()}


def _walk(package: str, paths: list[str] | None = None):
    """(dotted name, source file) of every module of ``package``, subpackages included; a
    package already imported is walked on its ``__path__``, others on their folder."""
    loaded = sys.modules.get(package)
    if loaded is not None:
        paths = list(loaded.__path__)
    elif paths is None:
        paths = list(importlib.util.find_spec(package).submodule_search_locations)
    for folder in paths:
        if (Path(folder) / '__init__.py').is_file():
            yield package, str(Path(folder) / '__init__.py')
    for info in pkgutil.iter_modules(paths, package + '.'):
        folder = Path(info.module_finder.path) / info.name.rsplit('.', 1)[1]
        if info.ispkg:
            yield from _walk(info.name, [str(folder)])
        elif folder.with_suffix('.py').is_file():
            yield info.name, str(folder.with_suffix('.py'))


class DerainRegistry(Registry):
    """A ``Registry`` whose failed look-ups say where they looked and what was meant.

    ``scanned``: the variable name whose ``register_module`` calls the scan looks for; the
    modules found are imported, with ``locations``, on the first look-up."""

    def __init__(self, name: str, parent: Registry, scanned: str | None = None,
                 locations: list[str] | None = None):
        super().__init__(name, parent=parent, scope=SCOPE, locations=list(locations or []))
        self.scanned = scanned

    def import_from_location(self) -> None:
        if not self._imported and self.scanned:
            found = registering_modules().get(self.scanned, ())
            self._locations = [*found, *(m for m in self._locations if m not in found)]
        super().import_from_location()

    def all_names(self) -> list[str]:
        """Names visible from this node: its own, then its ancestors'."""
        self.import_from_location()
        names, node = [], self
        while node is not None:
            names.extend(node.module_dict)
            node = node.parent
        return sorted(set(names))

    def get(self, key):
        obj = super().get(key)
        if obj is None and isinstance(key, str):
            close = difflib.get_close_matches(key.split('.')[-1], self.all_names(), n=5, cutoff=0.5)
            hint = f' Closest registered names: {", ".join(close)}.' if close else ''
            raise KeyError(
                f"'{key}' is not in the {self.scope}::{self.name} registry "
                f'(nor its parent {self.parent.scope}::{self.parent.name}).{hint}')
        return obj


def _child(scanned: str, name: str, parent: Registry, *locations: str) -> DerainRegistry:
    return DerainRegistry(name, parent, scanned, list(locations))


RUNNERS = _child('RUNNERS', 'runner', MMENGINE_RUNNERS)
RUNNER_CONSTRUCTORS = _child('RUNNER_CONSTRUCTORS', 'runner constructor',
                             MMENGINE_RUNNER_CONSTRUCTORS)
LOOPS = _child('LOOPS', 'loop', MMENGINE_LOOPS)
HOOKS = _child('HOOKS', 'hook', MMENGINE_HOOKS)
STRATEGIES = _child('STRATEGIES', 'strategy', MMENGINE_STRATEGIES)
DATASETS = _child('DATASETS', 'dataset', MMENGINE_DATASETS)
DATA_SAMPLERS = _child('DATA_SAMPLERS', 'data sampler', MMENGINE_DATA_SAMPLERS)
# mmcv's transforms (Compose, RandomApply, KeyMapper, ...) register in the parent root
TRANSFORMS = _child('TRANSFORMS', 'transform', MMENGINE_TRANSFORMS, 'mmcv.transforms')
MODELS = _child('MODELS', 'model', MMENGINE_MODELS)
MODEL_WRAPPERS = _child('MODEL_WRAPPERS', 'model_wrapper', MMENGINE_MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child('WEIGHT_INITIALIZERS', 'weight initializer',
                             MMENGINE_WEIGHT_INITIALIZERS)
OPTIMIZERS = _child('OPTIMIZERS', 'optimizer', MMENGINE_OPTIMIZERS)
OPTIM_WRAPPERS = _child('OPTIM_WRAPPERS', 'optim_wrapper', MMENGINE_OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child('OPTIM_WRAPPER_CONSTRUCTORS',
                                    'optimizer wrapper constructor',
                                    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child('PARAM_SCHEDULERS', 'parameter scheduler', MMENGINE_PARAM_SCHEDULERS)
METRICS = _child('METRICS', 'metric', MMENGINE_METRICS)
EVALUATOR = _child('EVALUATOR', 'evaluator', MMENGINE_EVALUATOR)
TASK_UTILS = _child('TASK_UTILS', 'task util', MMENGINE_TASK_UTILS)
VISUALIZERS = _child('VISUALIZERS', 'visualizer', MMENGINE_VISUALIZERS)
VISBACKENDS = _child('VISBACKENDS', 'vis_backend', MMENGINE_VISBACKENDS)
LOG_PROCESSORS = _child('LOG_PROCESSORS', 'log_processor', MMENGINE_LOG_PROCESSORS)
INFERENCERS = _child('INFERENCERS', 'inferencer', MMENGINE_INFERENCERS)
FUNCTIONS = _child('FUNCTIONS', 'function', MMENGINE_FUNCTIONS)

ALL_REGISTRIES = {
    'runner': RUNNERS, 'runner constructor': RUNNER_CONSTRUCTORS, 'loop': LOOPS, 'hook': HOOKS,
    'strategy': STRATEGIES, 'dataset': DATASETS, 'data sampler': DATA_SAMPLERS,
    'transform': TRANSFORMS, 'model': MODELS, 'model_wrapper': MODEL_WRAPPERS,
    'weight initializer': WEIGHT_INITIALIZERS, 'optimizer': OPTIMIZERS,
    'optim_wrapper': OPTIM_WRAPPERS, 'optimizer wrapper constructor': OPTIM_WRAPPER_CONSTRUCTORS,
    'parameter scheduler': PARAM_SCHEDULERS, 'metric': METRICS, 'evaluator': EVALUATOR,
    'task util': TASK_UTILS, 'visualizer': VISUALIZERS, 'vis_backend': VISBACKENDS,
    'log_processor': LOG_PROCESSORS, 'inferencer': INFERENCERS, 'function': FUNCTIONS,
}
