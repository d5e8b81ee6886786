"""Child registries of every MMEngine root registry, scope ``danet``.

Modules register themselves when a registry is first queried: each child lists the
modules that define its members in ``locations``, so no ``__init__`` imports everything.
An unknown ``type`` raises a ``KeyError`` that names the registry and the closest names.
"""
import difflib

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


class DerainRegistry(Registry):
    """A ``Registry`` whose failed look-ups say where they looked and what was meant."""

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


def _child(name, parent, *locations):
    return DerainRegistry(name, parent=parent, scope=SCOPE, locations=list(locations))


RUNNERS = _child('runner', MMENGINE_RUNNERS)
RUNNER_CONSTRUCTORS = _child('runner constructor', MMENGINE_RUNNER_CONSTRUCTORS)
LOOPS = _child('loop', MMENGINE_LOOPS, 'danet.engine.loops', 'danet.engine.progressive')
HOOKS = _child('hook', MMENGINE_HOOKS, 'danet.engine.hooks')
STRATEGIES = _child('strategy', MMENGINE_STRATEGIES)
DATASETS = _child('dataset', MMENGINE_DATASETS, 'danet.datasets.h5_dataset',
                  'danet.datasets.folder_dataset')
DATA_SAMPLERS = _child('data sampler', MMENGINE_DATA_SAMPLERS)
# mmcv's transforms (Compose, RandomApply, KeyMapper, ...) register in the parent root
TRANSFORMS = _child('transform', MMENGINE_TRANSFORMS, 'danet.datasets.transforms',
                    'mmcv.transforms')
MODELS = _child('model', MMENGINE_MODELS, 'danet.models.danet', 'danet.models.mprnet',
                'danet.models.prenet', 'danet.models.pcnet', 'danet.models.restormer',
                'danet.models.drsformer',
                'danet.models.losses', 'danet.models.derain_model',
                'danet.models.data_preprocessor')
MODEL_WRAPPERS = _child('model_wrapper', MMENGINE_MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child('weight initializer', MMENGINE_WEIGHT_INITIALIZERS)
OPTIMIZERS = _child('optimizer', MMENGINE_OPTIMIZERS)
OPTIM_WRAPPERS = _child('optim_wrapper', MMENGINE_OPTIM_WRAPPERS, 'danet.engine.options')
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child('parameter scheduler', MMENGINE_PARAM_SCHEDULERS)
METRICS = _child('metric', MMENGINE_METRICS, 'danet.evaluation.metrics')
EVALUATOR = _child('evaluator', MMENGINE_EVALUATOR)
TASK_UTILS = _child('task util', MMENGINE_TASK_UTILS, 'danet.evaluation.protocols')
VISUALIZERS = _child('visualizer', MMENGINE_VISUALIZERS)
VISBACKENDS = _child('vis_backend', MMENGINE_VISBACKENDS)
LOG_PROCESSORS = _child('log_processor', MMENGINE_LOG_PROCESSORS)
INFERENCERS = _child('inferencer', MMENGINE_INFERENCERS)
FUNCTIONS = _child('function', MMENGINE_FUNCTIONS)

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
