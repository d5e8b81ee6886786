"""Refuse to train on test backgrounds: fingerprints of the training split against every test set.

``run_training`` calls :func:`check_overlap` before building the runner; the result goes into
``env.json`` (``train_test_overlap``) whether training proceeds or not.
"""
from pathlib import Path

from danet.datasets.fingerprint import THRESHOLD, match
from danet.datasets.fingerprint_store import load_fingerprints
from danet.utils.config import dataset_configs

MAX_LISTED = 20


class OverlapError(ValueError):
    """The training split shares backgrounds with a test set (and overlap was not allowed)."""


def _source(dataset: dict) -> tuple[str, str, str | None] | None:
    """``(path, layout, split)`` a dataset config reads, or None for types not checked."""
    if dataset.get('type') == 'H5PairedDataset':
        return dataset['ann_file'], 'pairs', dataset.get('split')
    if dataset.get('type') == 'FolderPairedDataset':
        return dataset['ann_file'], dataset.get('layout', 'pairs'), None
    return None


def check_overlap(cfg, allow: bool = False) -> dict:
    """Compare the training split's backgrounds with each configured test set's.

    Returns ``{'allowed', 'threshold', 'checked', 'not_checked', 'pairs'}``; ``pairs`` lists
    ``{testset, train, test, similarity, flip}``. Raises :class:`OverlapError` listing the pairs
    when there are any and ``allow`` is false. Test sets whose files are missing or whose
    dataset type is unknown are listed in ``not_checked``.
    """
    found = dataset_configs(cfg)
    train_cfg = found.get('train_dataloader.dataset')
    report = {'allowed': allow, 'threshold': THRESHOLD, 'checked': [], 'not_checked': [],
              'pairs': []}
    train_src = None if train_cfg is None else _source(train_cfg)
    if train_src is None:
        report['not_checked'].append('train_dataloader.dataset (type not checked)')
        return report
    train = load_fingerprints(train_src[0], train_src[1], split=train_src[2])
    for key, dataset in found.items():
        if not key.startswith('test_dataloader'):
            continue
        source = _source(dataset)
        name = dataset.get('testset') or key
        if source is None or not Path(source[0]).exists():
            report['not_checked'].append(f'{name} ({key}: '
                                         f'{"missing file" if source else "type not checked"})')
            continue
        test = load_fingerprints(source[0], source[1])
        report['checked'].append(name)
        report['pairs'] += [{'testset': name, 'train': train.names[i], 'test': test.names[j],
                             'similarity': round(sim, 4), 'flip': flip}
                            for i, j, sim, flip in match(train.fps, test.fps)]
    if report['pairs'] and not allow:
        listed = '\n'.join(f'  train {p["train"]} ~ {p["testset"]} {p["test"]} '
                           f'(similarity {p["similarity"]:.3f}{", flipped" if p["flip"] else ""})'
                           for p in report['pairs'][:MAX_LISTED])
        more = len(report['pairs']) - MAX_LISTED
        listed += f'\n  ... and {more} more' if more > 0 else ''
        raise OverlapError(
            f'the training split shares {len(report["pairs"])} background(s) with the test '
            f'sets:\n{listed}\n'
            'Repack the training set with `python -m data_tools pack ... --exclude-overlap-with '
            'TEST.h5 ...`, or pass --allow-overlap to train anyway (recorded in env.json).')
    return report
