"""Pack a folder of rainy/clean images into one HDF5 file (layout in ``danet.datasets.h5format``).

Decoding, hashing, fingerprints and the rainy-vs-clean metrics of the dataset card run in a
process pool; the main process writes. ``exclude_overlap_with`` leaves out every background
whose fingerprint matches one of those sets' backgrounds and records it in the manifest's
``excluded``. The file is written to a hidden ``.NAME.HOST.PID.partial`` beside the destination
and renamed into place only when complete, so a packer stopped at any moment leaves nothing at
the destination. Before each image is
written the free space is checked (the image's raw size plus :data:`SPACE_MARGIN`): HDF5 meeting
a full disk floods stderr and can crash the process, so a full disk is refused before that.
"""
import errno
import json
import os
import shutil
import socket
import time
from multiprocessing import Pool
from pathlib import Path

import h5py
import numpy as np
from tqdm import tqdm

from danet.datasets import fingerprint as fpm
from danet.datasets import h5format as fmt
from danet.datasets.card import build_card, pair_metrics
from danet.datasets.fingerprint_store import load_fingerprints, write_packed_fingerprints
from danet.datasets.image_files import BadInputError, Group, decode_rgb, discover
from danet.datasets.split import split_by_background
from danet.utils.hashing import pixel_hash
from danet.utils.processes import pid_alive

PACKER_VERSION = '1.0'
SYNTHESIS_FILE = 'synthesis.json'
"""Written beside synthesised images (``data_tools.synth``); copied into the manifest."""
COMPRESSIONS = ('none', 'gzip', 'lzf')
SPACE_MARGIN = 1 << 20
"""Bytes kept free beyond each image (HDF5's metadata and the manifest)."""


def _decode(path: Path, convert: bool) -> dict:
    try:
        img, note = decode_rgb(path, convert)
    except Exception as err:  # any decoder failure is a bad file, reported by name
        return {'path': path, 'error': f'{type(err).__name__}: {err}'}
    return {'path': path, 'img': img, 'converted': note, 'sha256': pixel_hash(img)}


def _decode_group(args: tuple[Group, bool]) -> tuple[dict | None, list[tuple[str, dict]],
                                                      list[tuple[str, str]]]:
    """Decode one background and its rainy images; return them with the problems found."""
    group, convert = args
    clean = None if group.clean is None else _decode(group.clean, convert)
    problems = [] if clean is None or 'error' not in clean else [(str(group.clean), clean['error'])]
    rainy = []
    for name, path in group.rainy:
        item = _decode(path, convert)
        if 'error' in item:
            problems.append((str(path), item['error']))
        elif clean is not None and 'error' in clean:
            problems.append((str(path), f'its clean image {group.clean} is bad'))
        elif clean is not None and item['img'].shape != clean['img'].shape:
            h, w = item['img'].shape[:2]
            ch, cw = clean['img'].shape[:2]
            problems.append((str(path), f'size {w}x{h} differs from clean {group.clean} '
                                        f'({cw}x{ch})'))
        else:
            rainy.append((name, item))
    return (clean if rainy else None), rainy, problems


def _decode_and_describe(args: tuple[Group, bool]):
    """``_decode_group`` plus each image's fingerprint and each pair's card metrics."""
    clean, rainy, problems = _decode_group(args)
    if clean is not None:
        clean['fp'] = fpm.fingerprint(clean['img'])
    for _, item in rainy:
        item['fp'] = fpm.fingerprint(item['img'])
        if clean is not None:
            item['metrics'] = pair_metrics(item['img'], clean['img'])
    return clean, rainy, problems


def _overlaps(fp: np.ndarray, tests: list[fpm.FingerprintSet]) -> list[dict]:
    """The test backgrounds that fingerprint ``fp`` matches."""
    return [{'set': t.label, 'image': t.names[j], 'similarity': round(sim, 4), 'flip': flip}
            for t in tests for _, j, sim, flip in fpm.match(fp[None], t.fps)]


def _write_image(group: h5py.Group, index: int, img, compression: str) -> None:
    folder = Path(group.file.filename).parent
    if shutil.disk_usage(folder).free < img.nbytes + SPACE_MARGIN:
        raise OSError(errno.ENOSPC, f'no space left on the device of {folder} '
                      f'({shutil.disk_usage(folder).free} bytes free, the next image needs '
                      f'{img.nbytes + SPACE_MARGIN})')
    h, w = img.shape[:2]
    group.create_dataset(fmt.image_key(index), data=img,
                         chunks=(min(fmt.CHUNK, h), min(fmt.CHUNK, w), 3),
                         compression=None if compression == 'none' else compression)


def _entry(item: dict, src: Path) -> dict:
    entry = {'path': Path(item['path']).relative_to(src).as_posix(),
             'shape': list(item['img'].shape[:2]), 'sha256': item['sha256']}
    if item['converted']:
        entry['converted'] = item['converted']
    return entry


def pack(src: str | Path, out: str | Path, layout: str = 'pairs', *, compression: str = 'none',
         skip_bad: bool = False, convert: bool = False, overwrite: bool = False,
         val_fraction: float = 0.0, split_seed: int = 0, workers: int | None = None,
         command: str = '', exclude_overlap_with=(), provenance: dict | None = None) -> dict:
    """Pack ``src`` (in ``layout``) into ``out``; return the manifest.

    Raises ``BadInputError`` listing every offending file (nothing written) unless ``skip_bad``,
    in which case they are left out and recorded in the manifest's ``skipped``. Backgrounds
    found in the sets ``exclude_overlap_with`` (packed files or folders) are left out and
    recorded in ``excluded``; ``provenance`` (``source``, ``license``) goes into the card. A
    ``synthesis.json`` in ``src`` (from ``synth``) is copied into the manifest (``synthesis``).
    """
    src, out = Path(src).resolve(), Path(out)
    if compression not in COMPRESSIONS:
        raise ValueError(f'compression {compression!r}: choose one of {", ".join(COMPRESSIONS)}')
    if out.exists() and not overwrite:
        raise FileExistsError(f'{out} exists; pass --overwrite to replace it')
    groups, problems = discover(src, layout)
    tests = [load_fingerprints(t, layout, workers=workers) for t in exclude_overlap_with]
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(out)
    partial = out.parent / f'.{out.name}.{socket.gethostname()}.{os.getpid()}.partial'
    manifest = {'rainy': [], 'clean': [], 'skipped': [], 'split': None, 'excluded': []}
    fps, metrics = {'gt': [], 'lq': []}, []
    workers = workers or os.cpu_count() or 1
    try:
        with h5py.File(partial, 'w') as f, Pool(workers) as pool:
            rainy_group, clean_group = f.create_group(fmt.LQ), f.create_group(fmt.GT)
            jobs = pool.imap(_decode_and_describe, [(g, convert) for g in groups])
            total = sum(len(g.rainy) for g in groups)
            with tqdm(total=total, desc=f'pack {src.name}', unit='img') as bar:
                for clean, rainy, group_problems in jobs:
                    problems += group_problems
                    bar.update(len(rainy) + len(group_problems))
                    if problems and not skip_bad:
                        continue  # keep decoding to report every bad file, write nothing
                    background = clean if clean is not None else (rainy[0][1] if rainy else None)
                    found = _overlaps(background['fp'], tests) if tests and background else []
                    if found:
                        manifest['excluded'].append({
                            'clean': None if clean is None else _entry(clean, src)['path'],
                            'rainy': [name for name, _ in rainy], 'matches': found})
                        continue
                    clean_index = None
                    if clean is not None:
                        clean_index = len(manifest['clean'])
                        _write_image(clean_group, clean_index, clean['img'], compression)
                        manifest['clean'].append(_entry(clean, src))
                        fps['gt'].append(clean['fp'])
                    for name, item in rainy:
                        _write_image(rainy_group, len(manifest['rainy']), item['img'],
                                     compression)
                        manifest['rainy'].append({'name': name, **_entry(item, src),
                                                  'clean': clean_index})
                        fps['lq'].append(item['fp'])
                        if 'metrics' in item:
                            metrics.append(item['metrics'])
            if problems and not skip_bad:
                raise BadInputError(sorted(problems), f'cannot pack {src}')
            if not manifest['rainy']:
                raise BadInputError(sorted(problems) or [(str(src), 'no images')],
                                    f'nothing to pack in {src}' + (
                                        ' after excluding overlaps' if manifest['excluded']
                                        else ''))
            manifest['skipped'] = [list(p) for p in sorted(problems)]
            if (src / SYNTHESIS_FILE).is_file():
                manifest['synthesis'] = json.loads((src / SYNTHESIS_FILE).read_text())
            if val_fraction:
                keys = [manifest['clean'][r['clean']]['sha256'] if r['clean'] is not None
                        else r['sha256'] for r in manifest['rainy']]
                manifest['split'] = split_by_background(keys, val_fraction, split_seed)
            f.create_dataset(fmt.MANIFEST, data=json.dumps(manifest))
            fps = {k: np.stack(v) if v else np.zeros((0, fpm.GRID ** 2), np.float32)
                   for k, v in fps.items()}
            write_packed_fingerprints(f, fps)
            f.attrs.update({
                'format_version': fmt.FORMAT_VERSION, 'packer_version': PACKER_VERSION,
                'layout': layout, 'command': command, 'source': str(src),
                'created': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
                'content_hash': fmt.content_hash(manifest),
                'num_rainy': len(manifest['rainy']), 'num_clean': len(manifest['clean'])})
            card = build_card(manifest, dict(f.attrs), metrics, fps, provenance)
            f.create_dataset(fmt.CARD, data=json.dumps(card))
        os.replace(partial, out)
    except OSError as err:
        raise OSError(err.errno, f'cannot write {out}: {err.strerror or err}; nothing was '
                      'written (free some space or choose another output folder)') from None
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def remove_stale_partials(out: Path) -> None:
    """Delete ``.OUT.HOST.PID.partial`` files left beside ``out`` by killed packers of this host.

    A partial from another host (a shared filesystem) is never touched: its pid cannot be
    checked from here, and it may belong to a live packer.
    """
    host = socket.gethostname()
    for leftover in out.parent.glob(f'.{out.name}.*.partial'):
        owner, _, pid = leftover.name[len(out.name) + 2:-len('.partial')].rpartition('.')
        if owner == host and pid.isdigit() and not pid_alive(int(pid)):
            leftover.unlink(missing_ok=True)
