"""The one table of metrics: adding a metric means adding a row here.

The results schema (``results.build_results``/``validate_results``), ``RestorationMetric``/
``score_pair``, ``eval_folder`` and the analysis labels, decimals and ranking direction all read
this table.
"""
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


class UnscorableImage(ValueError):
    """An image a metric cannot score (too small, flat); the message says why. Folder evaluation
    without a reference records it per image instead of stopping."""


@dataclass(frozen=True)
class MetricSpec:
    """One metric: its results key, how to score it, and how tables show it.

    ``score(protocol, pred, gt, lpips_scorer)`` gets uint8 images as the protocol reads them
    (``gt`` is None for a no-reference metric) and returns a float.
    """

    key: str
    score: Callable[..., float]
    higher_is_better: bool
    decimals: int
    label: str
    reference: str = 'full'      # 'full' (needs the ground truth) or 'none'
    uses_lpips: bool = False     # the LPIPS network must be loaded to score it


def _lpips(protocol, pred, gt, scorer) -> float:
    return scorer(_rgb(pred), _rgb(gt))


def _niqe(protocol, pred, gt, scorer) -> float:
    from danet.evaluation.niqe import niqe_score
    return niqe_score(pred)


def _brisque(protocol, pred, gt, scorer) -> float:
    from danet.evaluation.brisque import brisque_score
    return brisque_score(pred)


def _rgb(img: np.ndarray) -> np.ndarray:
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img


METRIC_TABLE: dict[str, MetricSpec] = {m.key: m for m in (
    MetricSpec('psnr_y', lambda p, a, b, _: p.psnr(a, b, 'y'), True, 2, 'PSNR'),
    MetricSpec('ssim_y', lambda p, a, b, _: p.ssim(a, b, 'y'), True, 4, 'SSIM'),
    MetricSpec('psnr_rgb', lambda p, a, b, _: p.psnr(a, b, 'rgb'), True, 2, 'PSNR (RGB)'),
    MetricSpec('ssim_rgb', lambda p, a, b, _: p.ssim(a, b, 'rgb'), True, 4, 'SSIM (RGB)'),
    MetricSpec('lpips_alex', _lpips, False, 4, 'LPIPS', uses_lpips=True),
    MetricSpec('niqe', _niqe, False, 4, 'NIQE', reference='none'),
    MetricSpec('brisque', _brisque, False, 2, 'BRISQUE', reference='none'),
)}
FULL_REFERENCE_KEYS = tuple(k for k, m in METRIC_TABLE.items() if m.reference == 'full')
NO_REFERENCE_KEYS = tuple(k for k, m in METRIC_TABLE.items() if m.reference == 'none')
