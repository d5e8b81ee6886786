"""Check a packed file (or a sharded set, through its index) against itself: every image
against its manifest row, every manifest column against what is stored.

What each column is checked against: ``sha256`` and ``shape`` against the decoded pixels of
each image; ``name`` and ``clean`` (with the hashes) against the ``content_hash`` attribute;
``split`` against the rule that made it (one label per background, recomputed from the
``--val-fraction``/``--split-seed`` of the recorded ``command``); the counts, sizes, split sizes,
converted count and hashes of the stored card against the manifest. ``path`` and ``converted``
are the source's file names and notes: nothing stored can confirm them beyond the card's count.
A file that cannot be read raises ``h5format.DamagedFileError`` (exit 2), not a mismatch list.
"""
import argparse
import contextlib
import functools
import io
import itertools
import shlex
from pathlib import Path

import numpy as np
from tqdm import tqdm

from danet.datasets import h5format as fmt
from danet.datasets.card import manifest_fields, stored_card
from danet.datasets.manifest import content_hash
from danet.datasets.split import split_by_background
from danet.utils.hashing import pixel_hash
from data_tools.split_options import add_split_options


def verify(path: str | Path) -> list[tuple[str, str]]:
    """Return ``(what, reason)`` for every image whose pixels or shape no longer match the
    manifest (or that cannot be read) and for every table that no longer matches the rest."""
    packed = fmt.PackedFile(path)
    try:
        bad = _images(packed)
        with packed.reading('its manifest'):
            bad += _tables(packed)
    finally:
        packed.close()
    return bad


def _images(packed: fmt.PackedFile) -> list[tuple[str, str]]:
    manifest, bad = packed.manifest, []
    items = itertools.chain(
        ((packed.lq_group, packed.rainy, i, e) for i, e in enumerate(manifest.rows('rainy'))),
        ((packed.gt_group, packed.clean_image, i, e)
         for i, e in enumerate(manifest.rows('clean'))))
    for kind, read, index, entry in tqdm(items, desc=f'verify {packed.path.name}', unit='img',
                                         total=manifest.num_rainy + manifest.num_clean):
        label = f'{kind}/{fmt.image_key(index)} ({entry["path"]})'
        try:
            img = np.asarray(read(index)[()])
        except fmt.DamagedFileError as err:
            bad.append((label, f'unreadable: {err}'))
            continue
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            bad.append((label, f'stored as {img.dtype} {img.shape}, not uint8 H×W×3'))
        elif list(img.shape[:2]) != entry['shape']:
            bad.append((label, f'shape {list(img.shape[:2])} but the manifest says '
                               f'{entry["shape"]}'))
        if pixel_hash(img) != entry['sha256']:
            bad.append((label, 'pixel hash differs from the manifest'))
    return bad


def _tables(packed: fmt.PackedFile) -> list[tuple[str, str]]:
    manifest, bad = packed.manifest, []
    if content_hash(manifest) != packed.content_hash:
        bad.append(('content_hash', 'names, hashes or pairing differ from the stored content '
                                    'hash'))
    bad += _split_problems(packed)
    card = stored_card(packed)
    if card is not None:
        expected = manifest_fields(manifest, packed.attrs)
        bad += [(f'card {key}', f'{card.get(key)!r} but the manifest gives {value!r}')
                for key, value in expected.items() if key in card and card[key] != value]
    return bad


def _split_problems(packed: fmt.PackedFile) -> list[tuple[str, str]]:
    """The split labels against the split the recorded command asks for."""
    manifest = packed.manifest
    options = _pack_options(packed.attrs.get('command', ''))
    labels = manifest.split_labels
    if options is None:  # packed through the Python API: check the rule, not the draw
        if labels is None:
            return []
        seen: dict[str, set] = {}
        for key, label in zip(_backgrounds(manifest), labels.tolist(), strict=True):
            seen.setdefault(key, set()).add(label)
        mixed = [key for key, both in seen.items() if len(both) > 1]
        return [('split', f'{len(mixed)} background(s) in both train and val')] if mixed else []
    val_fraction, seed = options
    if not val_fraction:
        return [] if labels is None else [('split', 'labels stored, but the pack asked for none')]
    if labels is None:
        return [('split', f'missing: the pack asked for --val-fraction {val_fraction}')]
    halves = split_by_background(_backgrounds(manifest), val_fraction, seed)
    expected = np.zeros(manifest.num_rainy, np.int8)
    expected[halves['val']] = 1
    differ = int(np.count_nonzero(expected != labels))
    return [('split', f'{differ} label(s) differ from --val-fraction {val_fraction} '
                      f'--split-seed {seed}')] if differ else []


def _backgrounds(manifest) -> list[str]:
    """Each rainy image's background key: its clean image's pixel hash, else its own."""
    rainy, clean = manifest.column('rainy', 'sha256'), manifest.column('clean', 'sha256')
    return [clean[c] if c >= 0 else rainy[i] for i, c in enumerate(manifest.clean_index)]


@functools.cache
def _parser() -> argparse.ArgumentParser:
    """The split options of ``pack`` (unknown options of the recorded command are passed over)."""
    parser = argparse.ArgumentParser(add_help=False)
    add_split_options(parser)
    return parser


def _pack_options(command: str) -> tuple[float, int] | None:
    """``(val_fraction, split_seed)`` of a recorded ``danet-data pack ...`` command, or None."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if 'pack' not in argv:
        return None
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # argparse's usage text
            args, _ = _parser().parse_known_args(argv[argv.index('pack') + 1:])
    except SystemExit:
        return None
    return args.val_fraction, args.split_seed
