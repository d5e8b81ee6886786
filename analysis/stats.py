"""Paired statistics over images and seeds, from stored per-image results only.

For two methods A and B scored on the same images, with ``A[s, i]`` the metric of image ``i``
under seed ``s`` (one row per seed), the effect is ``mean_i(mean_s B - mean_s A)``. Its 95% CI
is a paired bootstrap: each resample draws A's seeds and B's seeds with replacement, then the
images with replacement (the same images for both). The test is Wilcoxon's signed-rank test
on the per-image differences averaged over seeds; with several comparisons in one family
(one test set and metric) p-values are Holm-corrected. A difference is *significant* when the
corrected p-value is below ``ALPHA`` and the CI excludes 0. Every draw uses a fixed seed.
"""
import json
import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.store import BASE, DEFAULT_PROTOCOL, LOWER_IS_BETTER, METRICS, AnalysisError, Run
from danet.evaluation.metric_table import metrics_for

ALPHA = 0.05
N_BOOT = 5000
RNG_SEED = 0


@dataclass
class Comparison:
    """B − A on one test set and metric (positive: B higher)."""

    testset: str
    metric: str
    a: str
    b: str
    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float                   # Wilcoxon, before correction
    p_adjusted: float                # Holm within the family (= p_value for a single pair)
    significant: bool
    n_images: int
    n_seeds_a: int
    n_seeds_b: int
    win_fraction: float              # share of images where B is better (metric's direction)
    seed_std: float                  # pooled between-seed std of a method's mean (nan: 1 seed)

    @property
    def seed_ratio(self) -> float:
        """|Δ| in units of the seed-to-seed spread (nan without ≥ 2 seeds)."""
        return abs(self.mean_diff) / self.seed_std if self.seed_std > 0 else math.nan


class NonFiniteScore(AnalysisError):
    """A metric with a non-finite score (PSNR of an identical pair): that metric is left out."""


def protocol_of(results: dict) -> str:
    """The evaluation protocol's name in a results file (today's default when not recorded)."""
    return str(results['conventions'].get('protocol') or DEFAULT_PROTOCOL)


def _scoring_key(results: dict) -> tuple:
    """Ground truth, protocol and the rest of the metric conventions of a results file."""
    rest = {k: v for k, v in results['conventions'].items() if k != 'protocol'}
    return results['dataset_hash'], json.dumps(rest, sort_keys=True), protocol_of(results)


def score_matrix(runs: list[Run], testset: str, metric: str) -> tuple[np.ndarray, list[str]]:
    """``(seeds × images)`` values of ``metric`` for runs of one method, and the image names.

    Raises ``AnalysisError`` when the runs scored different images, data or protocols.
    """
    rows, names, key = [], None, None
    for run in runs:
        data = run.results.get(testset)
        if data is None:
            raise AnalysisError(f'{run.path}: no results for test set {testset!r}')
        this_key = _scoring_key(data)
        if key is not None and this_key != key:
            raise AnalysisError(f'{run.path}: {testset} was scored on other data or with another '
                                f'protocol than {runs[0].path}; compare like with like')
        key = this_key
        values = {r['name']: r.get(metric) for r in data['images']}
        if names is None:
            names = sorted(values)
        elif sorted(values) != names:
            raise AnalysisError(f'{run.path}: {testset} images differ from {runs[0].path}')
        row = [math.nan if values[n] is None else float(values[n]) for n in names]
        bad = [n for n, v in zip(names, row, strict=True) if not math.isfinite(v)]
        if bad:
            raise NonFiniteScore(f'{run.path}: {testset} {metric} of {bad[0]} is '
                                 f'{values[bad[0]]}; paired statistics need a finite score for '
                                 'every image')
        rows.append(row)
    return np.asarray(rows, dtype=np.float64), names or []


def check_comparable(a: list[Run], b: list[Run], testset: str) -> None:
    """Raise ``AnalysisError`` unless A and B scored the same images (by name, each unmatched
    one named), data and protocol."""
    ra, rb = a[0].results[testset], b[0].results[testset]
    names_a, names_b = ({r['name'] for r in r_['images']} for r_ in (ra, rb))
    if names_a != names_b:
        def listed(names):
            return ', '.join(sorted(names)[:5]) + (f' and {len(names) - 5} more'
                                                    if len(names) > 5 else '')
        only = [f'only in {side}: {listed(names)}' for side, names in
                (('A', names_a - names_b), ('B', names_b - names_a)) if names]
        raise AnalysisError(f'{testset}: {a[0].path} (A) and {b[0].path} (B) scored different '
                            f'images ({"; ".join(only)}); paired statistics pair images by name')
    ka, kb = _scoring_key(ra), _scoring_key(rb)
    if ka == kb:
        return
    if ka[2] != kb[2]:
        what = f'evaluation protocol ({ka[2]} vs {kb[2]})'
    elif ka[0] != kb[0]:
        what = 'ground truth (dataset hash)'
    else:
        keys = sorted(k for k in {**ra['conventions'], **rb['conventions']}
                      if ra['conventions'].get(k) != rb['conventions'].get(k))
        what = f'metric conventions ({", ".join(keys)})'
    raise AnalysisError(f'{testset}: {a[0].path} and {b[0].path} differ in {what}; paired '
                        'statistics need both scored the same way')


def bootstrap_diffs(a: np.ndarray, b: np.ndarray, n_boot: int = N_BOOT,
                    rng: np.random.Generator | None = None) -> np.ndarray:
    """``n_boot`` resampled effects: seeds of A and of B, then images, with replacement."""
    rng = rng or np.random.default_rng(RNG_SEED)
    n = a.shape[1]
    out = np.empty(n_boot)
    for start in range(0, n_boot, 500):                 # bounded memory for large test sets
        k = min(500, n_boot - start)
        mean_a = a[rng.integers(0, len(a), (k, len(a)))].mean(axis=1)    # k × images
        mean_b = b[rng.integers(0, len(b), (k, len(b)))].mean(axis=1)
        pick = rng.integers(0, n, (k, n))
        out[start:start + k] = (np.take_along_axis(mean_b, pick, 1)
                                - np.take_along_axis(mean_a, pick, 1)).mean(axis=1)
    return out


def wilcoxon_p(diffs: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value (1.0 when every difference is 0)."""
    if not np.any(diffs != 0):
        return 1.0
    return float(sps.wilcoxon(diffs, zero_method='zsplit').pvalue)


def holm(p_values) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values, in the input order."""
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p)
    adjusted = np.maximum.accumulate(np.minimum(1.0, (len(p) - np.arange(len(p))) * p[order]))
    out = np.empty_like(p)
    out[order] = adjusted
    return out


def seed_std(*matrices: np.ndarray) -> float:
    """Pooled sample std over seeds of a method's mean score (nan when no method has 2 seeds)."""
    variances = [m.mean(axis=1).var(ddof=1) for m in matrices if len(m) > 1]
    return float(np.sqrt(np.mean(variances))) if variances else math.nan


def compare_scores(a: np.ndarray, b: np.ndarray, metric: str, n_boot: int = N_BOOT,
                   rng_seed: int = RNG_SEED) -> dict:
    """Effect, CI, p-value and win fraction of B − A from two ``seeds × images`` matrices."""
    diffs = b.mean(axis=0) - a.mean(axis=0)
    boots = bootstrap_diffs(a, b, n_boot, np.random.default_rng(rng_seed))
    low, high = np.quantile(boots, [ALPHA / 2, 1 - ALPHA / 2])
    better = diffs < 0 if metric in LOWER_IS_BETTER else diffs > 0
    return dict(mean_diff=float(diffs.mean()), ci_low=float(low), ci_high=float(high),
                p_value=wilcoxon_p(diffs), n_images=a.shape[1], n_seeds_a=len(a),
                n_seeds_b=len(b), win_fraction=float(better.mean()), seed_std=seed_std(a, b))


def _significant(c: dict) -> bool:
    return bool(c['p_adjusted'] < ALPHA and (c['ci_low'] > 0 or c['ci_high'] < 0))


def by_method(runs: list[Run]) -> dict[str, list[Run]]:
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.method, []).append(run)
    return groups


def compare_groups(a: list[Run], b: list[Run], metrics=METRICS, testsets=None,
                   n_boot: int = N_BOOT) -> list[Comparison]:
    """B − A per shared test set and metric both report (one pair: no correction), images
    paired by name; a metric with a non-finite score is left out with a printed note."""
    shared = [t for t in a[0].results if all(t in r.results for r in a + b)]
    out = []
    for testset in (testsets or shared):
        if testset not in shared:
            raise AnalysisError(f'test set {testset!r} is not scored by every run of both sides '
                                f'(shared: {", ".join(shared) or "none"})')
        check_comparable(a, b, testset)
        for metric in metrics:
            if metric not in a[0].results[testset]['summary'] or \
                    metric not in b[0].results[testset]['summary']:
                continue
            try:
                c = compare_scores(score_matrix(a, testset, metric)[0],
                                   score_matrix(b, testset, metric)[0], metric, n_boot)
            except NonFiniteScore as err:
                print(f'[analysis] statistics: {testset} {metric} left out: {err}')
                continue
            c['p_adjusted'] = c['p_value']
            out.append(Comparison(testset, metric, a[0].method, b[0].method,
                                  significant=_significant(c), **c))
    return out


def grid_comparisons(runs: list[Run], metrics=None, all_pairs: bool = False,
                     n_boot: int = N_BOOT) -> list[Comparison]:
    """Each grid variant vs the base (or every pair), per test set and metric (default: those the
    metric table shows in ``statistics``), Holm per family.

    Pairs scored on different data or protocols are left out with a printed note. Grids of
    different tasks (their runs score different test sets) are compared each within itself.
    """
    metrics = metrics_for('statistics') if metrics is None else metrics
    parts: dict[frozenset, list[Run]] = {}
    for run in runs:
        if run.source == 'grid':
            parts.setdefault(frozenset(run.results), []).append(run)
    found = []
    for part in parts.values():
        groups = by_method(part)
        names = list(groups)
        if all_pairs:
            pairs = [(x, y) for i, x in enumerate(names) for y in names[i + 1:]]
        else:
            pairs = [(BASE, m) for m in names if m != BASE and BASE in groups]
        for a, b in pairs:
            try:
                found += compare_groups(groups[a], groups[b], metrics, n_boot=n_boot)
            except AnalysisError as err:
                print(f'[analysis] statistics: {a} vs {b} left out: {err}')
    families: dict[tuple, list[Comparison]] = {}
    for c in found:
        families.setdefault((c.testset, c.metric), []).append(c)
    for family in families.values():
        for c, p in zip(family, holm([c.p_value for c in family]), strict=True):
            c.p_adjusted = float(p)
            c.significant = _significant(asdict(c))
    return found


def why_no_comparisons(runs: list[Run], all_pairs: bool) -> str:
    """Why ``grid_comparisons(runs, all_pairs=all_pairs)`` found nothing, in the user's terms."""
    names = sorted(by_method([r for r in runs if r.source == 'grid']))
    if not names:
        return 'no grid runs (a grid run folder holds run.json); compare two folders with compare'
    if len(names) == 1:
        return f'only one grid variant ({names[0]}); nothing to compare it with'
    if not all_pairs and BASE not in names:
        return (f'no base run; pass --all-pairs to compare the variants '
                f'({", ".join(names)}) with each other')
    return 'every pair was left out (the notes above say why)'


def to_frame(comparisons: list[Comparison]) -> pd.DataFrame:
    return pd.DataFrame([{**asdict(c), 'seed_ratio': c.seed_ratio} for c in comparisons])


def per_image_diffs(runs: list[Run], a: str, b: str, testset: str, metric: str) -> pd.Series:
    """B − A per image (averaged over seeds), indexed by image name, largest |Δ| first."""
    groups = by_method([r for r in runs if testset in r.results])   # grids of several tasks
    mat_a, names = score_matrix(groups[a], testset, metric)
    mat_b, _ = score_matrix(groups[b], testset, metric)
    diffs = pd.Series(mat_b.mean(axis=0) - mat_a.mean(axis=0), index=names)
    return diffs.reindex(diffs.abs().sort_values(ascending=False, kind='stable').index)


def most_affected(diffs: pd.DataFrame, testset: str, n: int = 3) -> list[str]:
    """The ``n`` images of ``testset`` whose score moves most (max |Δ| over comparisons)."""
    part = diffs[diffs['testset'] == testset]
    largest = part['diff'].abs().groupby(part['name']).max()
    return list(largest.sort_values(ascending=False, kind='stable').index[:n])


class Paired:
    """Paired statistics over ``runs``: every grid variant vs the base, and on demand any pair."""

    def __init__(self, runs: list[Run], all_pairs: bool = False, n_boot: int = N_BOOT):
        self.runs, self.n_boot = runs, n_boot
        self.groups = by_method(runs)
        self.comparisons = grid_comparisons(runs, all_pairs=all_pairs, n_boot=n_boot)
        self._cache: dict[tuple, bool | None] = {}

    def find(self, testset: str, metric: str, a: str, b: str) -> Comparison | None:
        return next((c for c in self.comparisons if (c.testset, c.metric, c.a, c.b)
                     == (testset, metric, a, b)), None)

    def separated(self, testset: str, metric: str, a: str, b: str) -> bool | None:
        """Whether A and B differ significantly (one pair, no correction); None if unknown."""
        key = (testset, metric, *sorted((a, b)))
        if key not in self._cache:
            self._cache[key] = None
            if a in self.groups and b in self.groups:
                runs_a, runs_b = ([r for r in self.groups[m] if testset in r.results]
                                  for m in (a, b))   # grids of several tasks share names
                try:
                    found = compare_groups(runs_a, runs_b, (metric,), (testset,), self.n_boot)
                    self._cache[key] = found[0].significant if found else None
                except AnalysisError:
                    pass
        return self._cache[key]


def image_diffs(runs: list[Run], comparisons: list[Comparison],
                metric: str = 'psnr_y') -> pd.DataFrame:
    """Per image, B − A (averaged over seeds) of each comparison: testset, a, b, name, diff."""
    frames = []
    for c in comparisons:
        if c.metric == metric:
            diffs = per_image_diffs(runs, c.a, c.b, c.testset, metric)
            frames.append(pd.DataFrame({'testset': c.testset, 'a': c.a, 'b': c.b,
                                        'name': diffs.index, 'diff': diffs.to_numpy()}))
    columns = ['testset', 'a', 'b', 'name', 'diff']
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
