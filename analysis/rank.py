"""Rank one candidate run against the zoo's stored results (``python -m analysis rank``).

Reads only stored files: the candidate's run directory (``tools/test.py`` output: results and
``complexity.json``, ``images/`` with ``--save-images``) and the zoo's run directories. The
evaluation itself is orchestrated one layer up (``python -m ablations rank``), so analysis never
evaluates. Writes ``rank.md``/``rank.csv`` (params, MACs at the stored size, PSNR/SSIM per test
set, each method's mean over its seeds, best first) and ``significance.json`` (paired statistics
of the candidate against the best zoo method per test set, ``analysis.stats``), and, given the
ground truth and saved images of both, the comparison figure on the images where they differ most.
"""
from pathlib import Path

import pandas as pd

from analysis import figures, stats, store
from danet.utils.fileio import atomic_write_json, atomic_write_text

METRICS = ('psnr_y', 'ssim_y')


def _mean(runs: list[store.Run], testset: str, metric: str) -> float:
    return sum(r.results[testset]['summary'][metric] for r in runs) / len(runs)


def check_protocol(groups: dict[str, list[store.Run]], testset: str) -> str:
    """The one protocol every method scored ``testset`` under; ``AnalysisError`` naming the
    files otherwise (a ranking across protocols would compare different arithmetic)."""
    found = {}
    for runs in groups.values():
        for run in runs:
            found.setdefault(stats.protocol_of(run.results[testset]), run.path)
    if len(found) > 1:
        raise store.AnalysisError(f'{testset}: scored under several protocols: ' + ', '.join(
            f'{p} ({path})' for p, path in found.items()) + '; evaluate every method with the '
            'same --protocol')
    return next(iter(found))


def rank(candidate: Path, zoo_dirs: list[Path], testsets: list[str]):
    """The ranking table, the candidate-vs-best-zoo comparisons, and the best zoo run per test
    set."""
    cand = store.load_run(Path(candidate))
    missing = [t for t in testsets if t not in cand.results]
    if missing:
        raise store.AnalysisError(f'{candidate}: no results for {", ".join(missing)}')
    name = f'{cand.method} (candidate)'
    zoo = {method: [r for r in runs if all(t in r.results for t in testsets)]
           for method, runs in stats.by_method(store.discover_runs(zoo_dirs)).items()}
    zoo = {method: runs for method, runs in zoo.items() if runs}
    if not zoo:
        raise store.AnalysisError(f'no zoo run under {", ".join(map(str, zoo_dirs))} scored '
                                  f'{", ".join(testsets)}')
    groups = {name: [cand], **zoo}
    rows, comparisons, best_runs = [], [], {}
    for method, runs in groups.items():
        complexity = runs[0].complexity
        row = {'method': method, 'params': complexity.get('params'),
               'gmacs': complexity.get('gmacs'), 'macs_at': store.macs_shape(complexity)}
        for testset in testsets:
            for metric in METRICS:
                row[f'{testset} {metric}'] = _mean(runs, testset, metric)
        rows.append(row)
    for testset in testsets:
        check_protocol(groups, testset)
        best = max(zoo, key=lambda m: _mean(zoo[m], testset, 'psnr_y'))
        comparisons += stats.compare_groups(zoo[best], [cand], METRICS, [testset])
        best_runs[testset] = zoo[best][0]
    first = f'{testsets[0]} psnr_y'
    table = pd.DataFrame(rows).sort_values(first, ascending=False, ignore_index=True)
    return table, comparisons, best_runs


def markdown(table: pd.DataFrame) -> str:
    """The table as Markdown, scores to 4 decimals."""
    def cell(value) -> str:
        return f'{value:.4f}' if isinstance(value, float) else '—' if value is None else str(value)
    lines = ['| ' + ' | '.join(table.columns) + ' |', '|' + '---|' * len(table.columns)]
    lines += ['| ' + ' | '.join(cell(v) for v in row) + ' |' for row in table.itertuples(False)]
    return '\n'.join(lines) + '\n'


def write_rank(candidate: Path, zoo_dirs: list[Path], testsets: list[str], out: Path,
               gt_dirs: dict[str, Path] | None = None) -> list[Path]:
    """Write the table, the statistics and (where images and ground truth exist) the figures."""
    table, comparisons, best_runs = rank(candidate, zoo_dirs, testsets)
    out = Path(out)
    written = [out / 'rank.csv', out / 'rank.md', out / 'significance.json']
    atomic_write_text(written[0], table.to_csv(index=False))
    atomic_write_text(written[1], markdown(table))
    atomic_write_json(written[2], [vars(c) for c in comparisons])
    for testset, gt_dir in (gt_dirs or {}).items():
        best = best_runs[testset]
        folders = {'candidate': Path(candidate) / 'images' / testset,
                   best.method: best.path / 'images' / testset}
        if all(folder.is_dir() for folder in folders.values()):
            written += figures.write_figure(out / f'figure_{testset}', gt_dir=gt_dir,
                                            methods=folders)
        else:
            print(f'[analysis] {testset}: no figure, saved images missing in '
                  f'{", ".join(str(f) for f in folders.values() if not f.is_dir())}')
    return written
