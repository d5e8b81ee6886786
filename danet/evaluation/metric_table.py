"""The one table of metrics: adding a metric means adding a row here (or, from a plug-in,
``register_metric``).

The results schema (``results.build_results``/``validate_results``), ``RestorationMetric``/
``score_pair``, ``eval_folder`` and analysis (labels, decimals, ranking direction, and which
metrics each table and the significance tests show: ``metrics_for``) all read this table. A
plug-in's row travels in the results files it scores (``describe``/``learn``), so analysis, which
never imports the plug-in, shows it too. This module imports numpy only (analysis reads it).
"""
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from danet.evaluation.errors import UnscorableImage

__all__ = ['METRIC_TABLE', 'MetricSpec', 'UnscorableImage', 'VIEWS', 'describe', 'learn',
           'metrics_for', 'register_metric']

# where a metric can appear: the ablation table, the comparison table (beside quoted papers), the
# significance tests (``analysis stats``, the Δ columns), the protocol table
VIEWS = ('ablation', 'comparison', 'statistics', 'protocol')


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
    shown_in: tuple[str, ...] = ('ablation', 'statistics')   # of ``VIEWS``


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


_ALL = VIEWS
METRIC_TABLE: dict[str, MetricSpec] = {m.key: m for m in (
    MetricSpec('psnr_y', lambda p, a, b, _: p.psnr(a, b, 'y'), True, 2, 'PSNR', shown_in=_ALL),
    MetricSpec('ssim_y', lambda p, a, b, _: p.ssim(a, b, 'y'), True, 4, 'SSIM', shown_in=_ALL),
    MetricSpec('psnr_rgb', lambda p, a, b, _: p.psnr(a, b, 'rgb'), True, 2, 'PSNR (RGB)',
               shown_in=()),
    MetricSpec('ssim_rgb', lambda p, a, b, _: p.ssim(a, b, 'rgb'), True, 4, 'SSIM (RGB)',
               shown_in=()),
    MetricSpec('lpips_alex', _lpips, False, 4, 'LPIPS', uses_lpips=True),
    MetricSpec('niqe', _niqe, False, 4, 'NIQE', reference='none',
               shown_in=('ablation', 'comparison')),
    MetricSpec('brisque', _brisque, False, 2, 'BRISQUE', reference='none',
               shown_in=('ablation', 'comparison')),
)}
SHIPPED_KEYS = frozenset(METRIC_TABLE)
FULL_REFERENCE_KEYS = tuple(k for k, m in METRIC_TABLE.items() if m.reference == 'full')
NO_REFERENCE_KEYS = tuple(k for k, m in METRIC_TABLE.items() if m.reference == 'none')
DESCRIBED = ('higher_is_better', 'decimals', 'label', 'reference', 'shown_in')


def register_metric(spec: MetricSpec) -> MetricSpec:
    """Add a plug-in's row (call it when the plug-in is imported, e.g. by ``custom_imports``);
    ``ValueError`` for a key already in the table with another row, or a bad field."""
    bad = [v for v in spec.shown_in if v not in VIEWS]
    if bad or spec.reference not in ('full', 'none'):
        raise ValueError(f'metric {spec.key!r}: shown_in must be among {VIEWS} and reference '
                         f"'full' or 'none', got shown_in={spec.shown_in}, "
                         f'reference={spec.reference!r}')
    known = METRIC_TABLE.get(spec.key)
    if known is not None and not getattr(known.score, 'described_only', False) and (
            _fields(known) != _fields(spec) or spec.key in SHIPPED_KEYS):
        raise ValueError(f'metric {spec.key!r} is already in the metric table; choose another key')
    METRIC_TABLE[spec.key] = spec
    return spec


def _fields(spec: MetricSpec) -> tuple:
    return tuple(getattr(spec, name) for name in (*DESCRIBED, 'uses_lpips'))


def metrics_for(view: str) -> tuple[str, ...]:
    """The keys shown in ``view`` (one of ``VIEWS``), in table order."""
    if view not in VIEWS:
        raise ValueError(f'unknown view {view!r}; choose from {", ".join(VIEWS)}')
    return tuple(k for k, m in METRIC_TABLE.items() if view in m.shown_in)


def describe(key: str) -> dict:
    """The row of ``key`` as results files record a plug-in metric (everything but ``score``)."""
    spec = METRIC_TABLE[key]
    return {name: (list(v) if isinstance(v := getattr(spec, name), tuple) else v)
            for name in DESCRIBED}


def learn(descriptions: dict, source: str) -> None:
    """Add the rows that a results file ``source`` describes and the table lacks (a plug-in not
    imported here): shown by analysis, not scorable. ``ValueError`` naming ``source`` if a
    description is malformed."""
    for key, row in descriptions.items():
        if key in METRIC_TABLE:
            continue
        try:
            spec = MetricSpec(key, _scored_by_plugin(key, source), bool(row['higher_is_better']),
                              int(row['decimals']), str(row['label']), str(row['reference']),
                              shown_in=tuple(row['shown_in']))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f'{source}: metrics.{key}: expected {{{", ".join(DESCRIBED)}}}, '
                             f'got {row!r} ({err})') from None
        register_metric(spec)


def _scored_by_plugin(key: str, source: str):
    def score(*_):
        raise ValueError(f'metric {key!r} is known only from {source}; import the plug-in that '
                         'registers it to score it')
    score.described_only = True
    return score
