"""Rank a candidate against the zoo from stored results (``python -m analysis rank MANIFEST``).

Reads only stored files: the manifest ``python -m ablations rank`` writes (``protocol``,
``testsets`` and one entry per method × test set: ``label``, ``role`` (``candidate`` or ``zoo``),
``seed``, ``testset`` and ``dir``, a ``tools/test.py`` output folder with ``results/``,
``complexity.json`` and ``images/``). Entries of one label are one method, its seeds averaged;
two labels are two rows. Writes ``rank.md``/``rank.csv`` (params, MACs at the stored size,
PSNR/SSIM per test set, best first; both name the protocol) and ``significance.json`` (paired
statistics of the candidate against the best zoo method per test set, ``analysis.stats``), and,
given the ground truth, the comparison figure on the images where they differ most.
"""
from pathlib import Path

import pandas as pd

from analysis import figures, stats, store
from danet.utils.fileio import atomic_write_json, atomic_write_text

METRICS = ('psnr_y', 'ssim_y')
ROLES = ('candidate', 'zoo')


def _mean(runs: list[store.Run], testset: str, metric: str) -> float:
    return sum(r.results[testset]['summary'][metric] for r in runs) / len(runs)


def check_protocol(groups: dict[str, list[store.Run]], testset: str, protocol: str) -> None:
    """Every method scored ``testset`` under ``protocol``; ``AnalysisError`` naming the folder
    otherwise (a ranking across protocols would compare different arithmetic)."""
    for runs in groups.values():
        for run in runs:
            found = stats.protocol_of(run.results[testset])
            if found != protocol:
                raise store.AnalysisError(f'{run.path}: {testset} scored under {found}, the '
                                          f'ranking under {protocol}; evaluate every method '
                                          'with the same --protocol')


def load_manifest(path: Path) -> tuple[dict, dict[str, list[store.Run]], dict]:
    """The manifest, its methods (label → one merged ``Run`` per seed, candidate first) and
    each (label, test set)'s first output folder."""
    manifest = store.read_json(path)
    for key in ('protocol', 'testsets', 'entries'):
        if key not in manifest:
            raise store.AnalysisError(f'{path}: lacks {key!r}')
    runs: dict[tuple, store.Run] = {}
    folders: dict[tuple, Path] = {}
    roles: dict[str, str] = {}
    for i, entry in enumerate(manifest['entries']):
        missing = [k for k in ('label', 'role', 'testset', 'dir') if k not in entry]
        if missing or entry['role'] not in ROLES:
            raise store.AnalysisError(f'{path}: entries[{i}] lacks {missing} or has a role '
                                      f'other than {ROLES}')
        loaded = store.load_run(Path(entry['dir']))
        if entry['testset'] not in loaded.results:
            raise store.AnalysisError(f'{entry["dir"]}: no results for {entry["testset"]}')
        run = runs.setdefault((entry['label'], entry.get('seed')), store.Run(
            path=loaded.path, complexity=loaded.complexity, label=entry['label'],
            seed_given=entry.get('seed')))
        run.results[entry['testset']] = loaded.results[entry['testset']]
        folders.setdefault((entry['label'], entry['testset']), loaded.path)
        roles[entry['label']] = entry['role']
    candidates = [label for label, role in roles.items() if role == 'candidate']
    if len(candidates) != 1:
        raise store.AnalysisError(f'{path}: expected one candidate, found {len(candidates)}')
    groups = {candidates[0]: []}
    for (label, _), run in runs.items():
        groups.setdefault(label, []).append(run)
    if len(groups) < 2:
        raise store.AnalysisError(f'{path}: no zoo method to rank against')
    return manifest, groups, folders


def rank(manifest_path: Path):
    """The ranking table, the candidate-vs-best-zoo comparisons, the best zoo method per test
    set, the output folders and the manifest."""
    manifest, groups, folders = load_manifest(Path(manifest_path))
    testsets, protocol = manifest['testsets'], manifest['protocol']
    name, *zoo = groups
    rows, comparisons, best = [], [], {}
    for method, runs in groups.items():
        complexity = runs[0].complexity
        row = {'method': method, 'seeds': len(runs), 'params': complexity.get('params'),
               'gmacs': complexity.get('gmacs'), 'macs_at': store.macs_shape(complexity)}
        for testset in testsets:
            for metric in METRICS:
                row[f'{testset} {metric}'] = _mean(runs, testset, metric)
        rows.append(row)
    for testset in testsets:
        check_protocol(groups, testset, protocol)
        best[testset] = max(zoo, key=lambda m: _mean(groups[m], testset, 'psnr_y'))
        comparisons += stats.compare_groups(groups[best[testset]], groups[name], METRICS,
                                            [testset])
    table = pd.DataFrame(rows).sort_values(f'{testsets[0]} psnr_y', ascending=False,
                                           ignore_index=True)
    table.insert(1, 'protocol', protocol)
    return table, comparisons, best, folders, manifest


def markdown(table: pd.DataFrame, protocol: str) -> str:
    """The table as Markdown under a line naming its protocol, scores to 4 decimals."""
    def cell(value) -> str:
        return f'{value:.4f}' if isinstance(value, float) else '—' if value is None else str(value)
    shown = table.drop(columns='protocol')
    lines = [f'Protocol: {protocol} (every score below; docs/metrics.md)', '',
             '| ' + ' | '.join(shown.columns) + ' |', '|' + '---|' * len(shown.columns)]
    lines += ['| ' + ' | '.join(cell(v) for v in row) + ' |' for row in shown.itertuples(False)]
    return '\n'.join(lines) + '\n'


def write_rank(manifest_path: Path, out: Path,
               gt_dirs: dict[str, Path] | None = None) -> list[Path]:
    """Write the table, the statistics and (given ground truth) the figures into ``out``."""
    table, comparisons, best, folders, manifest = rank(manifest_path)
    out = Path(out)
    written = [out / 'rank.csv', out / 'rank.md', out / 'significance.json']
    atomic_write_text(written[0], table.to_csv(index=False))
    atomic_write_text(written[1], markdown(table, manifest['protocol']))
    atomic_write_json(written[2], [dict(vars(c), protocol=manifest['protocol'])
                                   for c in comparisons])
    candidate = next(e['label'] for e in manifest['entries'] if e['role'] == 'candidate')
    for testset, gt_dir in (gt_dirs or {}).items():
        shown = {candidate: folders[(candidate, testset)] / 'images' / testset,
                 best[testset]: folders[(best[testset], testset)] / 'images' / testset}
        if all(folder.is_dir() for folder in shown.values()):
            written += figures.write_figure(out / f'figure_{testset}', gt_dir=gt_dir,
                                            methods=shown)
        else:
            print(f'[analysis] {testset}: no figure, saved images missing in '
                  f'{", ".join(str(f) for f in shown.values() if not f.is_dir())}')
    return written
