"""``MultiTestLoop``: evaluate every test set of a config, one dataloader and evaluator each."""
import copy
from pathlib import Path

import torch
from mmengine.dist import is_main_process
from mmengine.runner.amp import autocast
from mmengine.runner.loops import BaseLoop
from PIL import Image
from tqdm import tqdm

from danet.engine.inference import InferenceEngine
from danet.evaluation.protocols import EvalProtocol, build_protocol
from danet.registry import LOOPS, RENAMED_TYPES
from danet.utils.fileio import atomic_path
from danet.utils.provenance import config_hash

RESULTS_DIR = 'results'
IMAGES_DIR = 'images'
METRIC_TYPES = ('RestorationMetric', RENAMED_TYPES['RestorationMetric'])


def method_name(cfg) -> str:
    """The method recorded in results files: the generator type, lower-cased (``danet``)."""
    return cfg.model.generator.type.lower()


@LOOPS.register_module()
class MultiTestLoop(BaseLoop):
    """Run each ``test_dataloader[i]`` through the model's ``InferenceEngine`` (prepared once:
    eval, frozen, channels-last) and score it with ``test_evaluator[i]``.

    A single evaluator dict is shared out to every dataloader. ``RestorationMetric`` entries that do
    not set them get ``results_dir=<work_dir>/results``, the run's ``config_hash`` and the
    ``method`` name, so each test set writes ``results/<testset>.json``; ``protocol``, when
    given, replaces theirs. Returned metrics are prefixed by the test set (``Rain100L/psnr_y``).

    Args:
        runner: the Runner.
        dataloader: list of dataloader configs (or one).
        evaluator: list of evaluator configs, one per dataloader (or one for all).
        fp16: run the model under autocast.
        save_images: also write each prediction to ``<work_dir>/images/<testset>/<name>.png``,
            quantised as the test set's evaluation protocol scores it.
        protocol: evaluation protocol for every ``DerainMetric`` (name or dict), or None to keep
            the configured ones.
    """

    def __init__(self, runner, dataloader, evaluator, fp16: bool = False,
                 save_images: bool = False, protocol: str | dict | None = None):
        self._runner = runner
        loaders = dataloader if isinstance(dataloader, list) else [dataloader]
        evaluators = evaluator if isinstance(evaluator, list) else [evaluator] * len(loaders)
        if len(evaluators) != len(loaders):
            raise ValueError(f'MultiTestLoop: {len(loaders)} test dataloaders but '
                             f'{len(evaluators)} test evaluators; give one per dataloader')
        if protocol is not None:
            build_protocol(protocol)   # an unknown name fails before any work
        self.protocol = protocol
        self.dataloaders = [runner.build_dataloader(d, seed=runner.seed) for d in loaders]
        self.evaluators = [runner.build_evaluator(self._with_results_output(e))
                           for e in evaluators]
        self.dataloader = self.dataloaders[0]
        self.fp16 = fp16
        self.save_images = save_images

    def _with_results_output(self, evaluator):
        evaluator = copy.deepcopy(evaluator)
        metrics = evaluator.get('metrics', evaluator) if isinstance(evaluator, dict) else None
        for metric in metrics if isinstance(metrics, list) else [metrics]:
            if isinstance(metric, dict) and metric.get('type') in METRIC_TYPES:
                metric.setdefault('results_dir', f'{self.runner.work_dir}/{RESULTS_DIR}')
                metric.setdefault('config_hash', config_hash(self.runner.cfg))
                metric.setdefault('method', method_name(self.runner.cfg))
                if self.protocol is not None:
                    metric['protocol'] = copy.deepcopy(self.protocol)
        return evaluator

    def run(self) -> dict:
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        metrics = {}
        for loader, evaluator in zip(self.dataloaders, self.evaluators, strict=True):
            self.dataloader = loader
            progress = tqdm(loader, desc=_testset_name(loader.dataset), unit='batch',
                            disable=not is_main_process())
            for idx, data_batch in enumerate(progress):
                self.run_iter(idx, data_batch, evaluator)
            metrics.update(evaluator.evaluate(len(loader.dataset)))
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch, evaluator) -> None:
        self.runner.call_hook('before_test_iter', batch_idx=idx, data_batch=data_batch)
        with autocast(enabled=self.fp16):
            outputs = InferenceEngine.of(self.runner.model).predict(data_batch)
        evaluator.process(data_samples=outputs, data_batch=data_batch)
        if self.save_images:
            protocol = _protocol_of(evaluator)
            for sample in outputs:
                save_prediction(sample, Path(self.runner.work_dir) / IMAGES_DIR, protocol)
        self.runner.call_hook('after_test_iter', batch_idx=idx, data_batch=data_batch,
                              outputs=outputs)


def save_prediction(sample, root: Path, protocol: EvalProtocol | None = None) -> Path:
    """Write ``sample.pred_img`` as ``<root>/<testset>/<name>`` in PNG (atomically), quantised
    as ``protocol`` scores it (default: rounded)."""
    path = (root / sample.metainfo.get('testset', 'images') / sample.name).with_suffix('.png')
    pixels = build_protocol(protocol).quantize(sample.pred_img)
    with atomic_path(path, suffix='.png') as tmp:
        Image.fromarray(pixels).save(tmp, format='PNG')
    return path


def _protocol_of(evaluator) -> EvalProtocol | None:
    """The protocol of the evaluator's first metric that has one."""
    return next((m.protocol for m in evaluator.metrics if isinstance(
        getattr(m, 'protocol', None), EvalProtocol)), None)


def _testset_name(dataset) -> str:
    return getattr(dataset, 'metainfo', {}).get('testset') or type(dataset).__name__
