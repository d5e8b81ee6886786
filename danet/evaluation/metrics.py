"""``RestorationMetric`` (old name ``DerainMetric``): per-image PSNR/SSIM (Y and RGB), LPIPS and
NIQE, as restoration papers report them."""
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.structures import BaseDataElement

from danet.evaluation.functional import quantize
from danet.evaluation.metric_table import FULL_REFERENCE_KEYS, METRIC_TABLE
from danet.evaluation.protocols import DEFAULT_PROTOCOL, EvalProtocol, build_protocol
from danet.evaluation.results import build_results, write_results
from danet.registry import METRICS
from danet.utils.hashing import ground_truth_hash, pixel_hash


def score_pair(pred: np.ndarray, gt: np.ndarray, metrics: Sequence[str],
               protocol: EvalProtocol, lpips_scorer=None) -> dict[str, float]:
    """The chosen metrics (keys of ``METRIC_TABLE``) of one uint8 prediction against its uint8
    ground truth (H×W×3, or H×W as the protocol reads a grayscale file), under ``protocol``."""
    return {key: METRIC_TABLE[key].score(protocol, pred, gt, lpips_scorer)
            for key in check_metric_keys(metrics)}


def check_metric_keys(metrics: Sequence[str]) -> tuple[str, ...]:
    """``metrics`` in table order; raises ``ValueError`` naming unknown keys."""
    unknown = [m for m in metrics if m not in METRIC_TABLE]
    if unknown or not metrics:
        raise ValueError(f'unknown metrics {unknown}; choose from {", ".join(METRIC_TABLE)}')
    return tuple(k for k in METRIC_TABLE if k in metrics)


def make_lpips_scorer(metrics: Sequence[str], device: str = 'cpu'):
    """An ``LPIPSScorer`` on ``device`` if ``metrics`` asks for LPIPS, else None (the network
    is loaded only when needed)."""
    if not any(METRIC_TABLE[k].uses_lpips for k in metrics):
        return None
    from danet.evaluation.lpips_metric import LPIPSScorer
    return LPIPSScorer(device=device)


@METRICS.register_module()
class RestorationMetric(BaseMetric):
    """Scores ``pred_img`` against ``gt_img`` of each ``RestorationSample``, keeping per-image rows.

    The prediction (float 3×H×W in [0, 1]) is quantised to uint8 as the protocol saves it
    (rounded or truncated); a float ground truth is rounded. ``compute_metrics`` returns the
    means (MMEngine prefixes them with ``prefix``, by default the samples' ``testset``), keeps
    the rows in ``last_rows`` and, if ``results_dir`` is set, writes
    ``<results_dir>/<testset>.json`` in the results schema (samples then need ``testset``
    metainfo). Its ``dataset_hash`` is the
    ``ground_truth_hash`` of the ground truths scored, as ``tools/eval_folder.py`` records it.

    Args:
        metrics: keys of ``METRIC_TABLE`` (default ``FULL_REFERENCE_KEYS``, every metric of the
            table that needs the ground truth; a no-reference one scores the prediction alone).
        protocol: evaluation protocol, a name or ``dict(type=NAME, crop_border=N)``
            (``danet.evaluation.protocols``; default ``mprnet_matlab``).
        results_dir: folder for the results file, or None to write nothing.
        method: the method name recorded in the results file.
        config_hash: the run's config hash recorded in the results file.
        lpips_device: device for the LPIPS network.
    """

    default_prefix = 'derain'

    def __init__(self, metrics: Sequence[str] = FULL_REFERENCE_KEYS, protocol=DEFAULT_PROTOCOL,
                 results_dir: str | None = None, method: str = 'model',
                 config_hash: str | None = None, lpips_device: str = 'cpu',
                 collect_device: str = 'cpu', prefix: str | None = None, **kwargs):
        super().__init__(collect_device=collect_device, prefix=prefix, **kwargs)
        self.metrics = check_metric_keys(metrics)
        self.protocol = build_protocol(protocol)
        self.results_dir = None if results_dir is None else Path(results_dir)
        self.method = method
        self.config_hash = config_hash
        self._prefix_from_samples = prefix is None
        self.lpips_scorer = make_lpips_scorer(self.metrics, lpips_device)
        self.last_rows: list[dict] = []

    def process(self, data_batch, data_samples: Sequence) -> None:
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            name = sample.get('name', f'#{len(self.results)}')
            for key in ('pred_img', 'gt_img'):
                if sample.get(key) is None:
                    raise KeyError(f'{type(self).__name__}: sample {name!r} has no {key}')
            pred = self.protocol.quantize(sample['pred_img'])
            gt = _to_uint8_hwc(sample['gt_img'])
            if pred.shape != gt.shape:
                raise ValueError(f'{type(self).__name__}: sample {name!r}: pred_img {pred.shape} '
                                 f'and gt_img {gt.shape} differ (HWC after quantisation)')
            row = {'name': name,
                   **score_pair(pred, gt, self.metrics, self.protocol, self.lpips_scorer)}
            self.results.append((row, sample.get('testset'), pixel_hash(gt)))

    def compute_metrics(self, results: list) -> dict[str, float]:
        rows = [row for row, _, _ in results]
        testsets = {t for _, t, _ in results}
        testset = next(iter(testsets)) if len(testsets) == 1 else None
        if self._prefix_from_samples and testset:
            self.prefix = testset
        self.last_rows = rows
        if self.results_dir is not None:
            if testset is None:
                raise ValueError(f'{type(self).__name__}: writing results needs one testset in the '
                                 f'samples\' metainfo, got {sorted(map(str, testsets))}')
            results_file = build_results(
                testset, self.method, rows, self.protocol.conventions(), self.config_hash,
                ground_truth_hash(h for _, _, h in results))
            write_results(self.results_dir / f'{testset}.json', results_file)
        return {k: float(np.mean([row[k] for row in rows])) for k in self.metrics}


DerainMetric = RestorationMetric   # the name before tasks other than deraining (same class)
METRICS.register_module(name='DerainMetric', module=RestorationMetric)


def _to_uint8_hwc(img) -> np.ndarray:
    """Ground truth (uint8 or float in [0, 1], 3×H×W tensor) → uint8 H×W×3."""
    if isinstance(img, torch.Tensor) and img.is_floating_point():
        return quantize(img)
    img = torch.as_tensor(img)
    if img.dtype != torch.uint8 or img.ndim != 3 or img.shape[0] != 3:
        raise ValueError(f'gt_img must be a uint8 or float 3×H×W tensor, got {img.dtype} '
                         f'{tuple(img.shape)}')
    return img.permute(1, 2, 0).contiguous().numpy()
