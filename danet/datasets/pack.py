"""Pack a folder of degraded/clean images into one HDF5 file, or into shards and an index.

The backgrounds found by ``discover`` are cut into *segments* (``SEGMENT_PAIRS`` rainy images,
or ``shard_size`` when sharding). Each segment is decoded by a process pool (at most a few
backgrounds in flight, so memory does not grow with the dataset) and written as a complete
packed file of its own, under a temporary name renamed when it is whole. At the end the
segments are merged: copied into one file, or (``shard_size``) kept as shard files that an
index file links to (HDF5 external links), so every reader opens the index as one dataset.

One pack at a time writes to a destination (:class:`OutLock`, a lock on ``.NAME.lock``).
Everything is written inside a hidden work folder ``.NAME.HOST.PID.partial`` beside the
destination, shards under new names (``NAME.TAG-shardK.h5``, the tag unused by any file there),
and the destination appears only by a final rename; the previous set (its shards too) stays
whole until then, and its shards are deleted after. ``resume=True`` adopts the
work folder of a dead packer of this host and skips the segments it finished (no re-decoding):
the result is bit-identical to an uninterrupted pack (``created`` is fixed when the pack starts,
or by ``SOURCE_DATE_EPOCH``). Before each image is written the free space is checked (its size
plus :data:`SPACE_MARGIN`): HDF5 meeting a full disk floods stderr and can crash the process.
Before a segment's tables, fingerprints and card, and before the merge, the room for them
(:data:`ROW_BYTES` a row) is checked too. The merge copies the segments into one file (not when
sharding), so it first checks that the disk can hold them twice; without room it stops and keeps
the finished segments for ``--resume``.
"""
import errno
import fcntl
import hashlib
import json
import math
import numbers
import os
import re
import shutil
import signal
import socket
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import h5py
import numpy as np
from tqdm import tqdm

from danet.datasets import fingerprint as fpm
from danet.datasets import h5format as fmt
from danet.datasets import pack_worker as worker
from danet.datasets.card import build_card
from danet.datasets.fingerprint_store import GROUP as FINGERPRINTS
from danet.datasets.fingerprint_store import FingerprintWriter, load_fingerprints
from danet.datasets.image_files import BadInputError, discover, pairing_rule, shown
from danet.datasets.manifest import BLOCK, COLUMNS, Manifest, ManifestWriter, content_hash
from danet.datasets.split import split_by_background
from danet.utils.fileio import human_bytes
from danet.utils.processes import pid_alive
from danet.utils.run_lock import describe_holder

PACKER_VERSION = '2.1'
SYNTHESIS_FILE = 'synthesis.json'
"""Written beside synthesised images (``data_tools.synth``); copied into the manifest."""
COMPRESSIONS = ('none', 'gzip', 'lzf')
SPACE_MARGIN = 1 << 20
"""Bytes kept free beyond each image (HDF5's metadata and the manifest)."""
SEGMENT_PAIRS = 256
"""Rainy images per segment when not sharding: the work a killed pack can lose."""
CARD_PAIRS = 1000
"""Pairs whose PSNR/SSIM the card measures (evenly spaced; 0 = every pair)."""
METRICS = 'card_metrics'
"""Dataset of the sampled pairs' ``[rainy index, PSNR, SSIM]`` (SSIM nan when undefined)."""


def pack(src: str | Path, out: str | Path, layout: str = 'pairs', *, compression: str = 'none',
         storage: str = 'raw', skip_bad: bool = False, convert: bool = False,
         overwrite: bool = False, val_fraction: float = 0.0, split_seed: int = 0,
         workers: int | None = None, command: str = '', exclude_overlap_with=(),
         provenance: dict | None = None, resume: bool = False, shard_size: int | None = None,
         card_pairs: int = CARD_PAIRS, list_file: str | Path | None = None,
         segment_pairs: int = SEGMENT_PAIRS) -> dict:
    """Pack ``src`` (in ``layout``) into ``out``; return the manifest.

    Raises ``BadInputError`` listing every offending file (nothing written) unless ``skip_bad``,
    in which case they are left out and recorded in the manifest's ``skipped``. Backgrounds
    found in the sets ``exclude_overlap_with`` (packed files or folders) are left out and
    recorded in ``excluded``; ``provenance`` (``source``, ``license``) goes into the card. A
    ``synthesis.json`` in ``src`` (from ``synth``) is copied into the manifest (``synthesis``).
    ``storage``: ``raw`` pixels or ``encoded`` PNG bytes (see ``pack_worker``); ``shard_size``:
    rainy images per shard file; ``card_pairs``: pairs measured for the card (0 = all);
    ``segment_pairs``: rainy images per resumable segment when not sharding. Every option is
    checked before any image is decoded; ``resume`` of a complete ``out`` packed from the same
    sources with the same options does nothing (and says so on stderr).
    """
    src, out = Path(src).resolve(), Path(out)
    _check_options(out, compression=compression, storage=storage, shard_size=shard_size,
                   card_pairs=card_pairs, val_fraction=val_fraction, split_seed=split_seed,
                   workers=workers, segment_pairs=segment_pairs, exclude=exclude_overlap_with)
    if (out.exists() or out.is_symlink()) and not (overwrite or resume):
        raise FileExistsError(f'{out} exists; pass --overwrite to replace it')
    groups, problems = discover(src, layout, list_file)
    if val_fraction and len(groups) < 2:
        raise ValueError(f'--val-fraction {val_fraction}: {src} has {len(groups)} background(s); '
                         'a train/val split needs at least 2')
    settings = {'layout': layout, 'compression': compression, 'storage': storage,
                'skip_bad': skip_bad, 'convert': convert, 'val_fraction': val_fraction,
                'split_seed': split_seed, 'exclude': [str(t) for t in exclude_overlap_with],
                'shard_size': shard_size, 'card_pairs': card_pairs,
                'segment_pairs': segment_pairs,
                'packer': PACKER_VERSION, 'sources': _sources_digest(src, groups)}
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        lock = OutLock(out).acquire()
    except PackBusyError:
        raise
    except OSError as err:
        raise _cannot_write(out, err) from None
    try:
        previous = _previous(out, key)
        if previous and previous['complete'] and resume:
            print(f'{out} is already complete (same sources and options): nothing to do',
                  file=sys.stderr)
            return fmt.PackedFile(out).manifest
        if previous is not None and not overwrite and not (resume and previous['same']):
            raise FileExistsError(f'{out} exists' + (
                ', packed from other sources or with other options' if resume else '')
                + '; pass --overwrite to replace it')
        job = {'command': command, 'resume': resume, 'provenance': provenance or {},
               'layout': layout, 'workers': workers, 'exclude': exclude_overlap_with,
               'shard_size': shard_size, 'segment_pairs': segment_pairs}
        return _pack_locked(src, out, groups, problems, settings, key, previous, job)
    finally:
        lock.release()


def _pack_locked(src, out, groups, problems, settings, key, previous, job) -> dict:
    """``pack`` once ``out``'s lock is held: write, switch, retire the previous set's shards."""
    resume, shard_size, work = job['resume'], job['shard_size'], None
    written: list[Path] = []
    try:
        work = _work_folder(out, resume)
        plan = _plan(work, key, job['command'], resume,
                     lambda: _shard_prefix(out, key, previous if resume else None)
                     if shard_size else None)
        context = {'src': src, 'key': key, 'resume': resume,
                   'found_first': [list(p) for p in problems], 'plan': plan,
                   'settings': settings, 'work': work, 'written': written,
                   'provenance': job['provenance'], 'pairing': pairing_rule(job['layout']),
                   'tests': [_in_memory(load_fingerprints(t, job['layout'],
                                                          workers=job['workers']))
                             for t in job['exclude']]}
        segments = _segments(groups, shard_size or job['segment_pairs'])
        paths = [(out.parent / f'{plan["shards"]}-shard{k:05d}.h5') if shard_size else
                 (work / f'segment{k:05d}.h5') for k in range(len(segments))]
        problems = _pack_segments(groups, segments, paths, problems, context, job['workers'])
        if problems and not settings['skip_bad']:
            raise BadInputError(sorted(problems), f'cannot pack {src}')
        final = work / 'final.h5'
        _check_room(out, work, paths, sum(len(g.rainy) + 1 for g in groups), not shard_size)
        _merge(final, paths, out.name if shard_size else None, context)
        _kill_point('switch')
        os.replace(final, out)  # the switch: readers see the old set or the new one, whole
    except _NoRoomToMerge as err:  # every segment is finished: kept for --resume
        raise OSError(errno.ENOSPC, str(err)) from None
    except KeyboardInterrupt:  # like a kill: the work folder stays for --resume
        raise
    except BaseException as err:
        _discard(work, written, previous)
        if isinstance(err, RuntimeError) and 'No space left' in str(err):
            raise _cannot_write(out, OSError(errno.ENOSPC, 'no space left on the device'),
                                previous is not None) from None
        if isinstance(err, OSError) and not isinstance(err, FileExistsError | FileNotFoundError):
            raise _cannot_write(out, err, previous is not None) from None
        raise
    _kill_point('retire')
    keep = {p.name for p in paths} if shard_size else set()
    for name in (previous or {}).get('shards', []):
        if name not in keep:
            (out.parent / name).unlink(missing_ok=True)
    _remove_orphan_shards(out, keep)
    shutil.rmtree(work, ignore_errors=True)
    return fmt.PackedFile(out).manifest


def _check_options(out: Path, *, compression, storage, shard_size, card_pairs, val_fraction,
                   split_seed, workers, segment_pairs, exclude) -> None:
    """Refuse a bad option before any work starts, naming it."""
    if compression not in COMPRESSIONS:
        raise ValueError(f'--compression {compression!r}: choose one of {", ".join(COMPRESSIONS)}')
    if storage not in worker.STORAGES:
        raise ValueError(f'--storage {storage!r}: choose one of {", ".join(worker.STORAGES)}')
    for option, value, least in (('--shard-size', shard_size, 1), ('--card-pairs', card_pairs, 0),
                                 ('--split-seed', split_seed, 0), ('--workers', workers, 1),
                                 ('segment_pairs', segment_pairs, 1)):
        if value is not None and (not isinstance(value, numbers.Integral) or value < least):
            raise ValueError(f'{option} {value}: must be a whole number, at least {least}'
                             + (' (0: every pair)' if option == '--card-pairs' else ''))
    if not (isinstance(val_fraction, numbers.Real) and math.isfinite(val_fraction)
            and (val_fraction == 0 or 0 < val_fraction < 1)):
        raise ValueError(f'--val-fraction {val_fraction}: must be 0 (no split) or a fraction '
                         'strictly between 0 and 1')
    for test in exclude:
        if not Path(test).exists():
            raise FileNotFoundError(f'--exclude-overlap-with {test}: no such file or folder')
    if out.is_dir():
        raise IsADirectoryError(errno.EISDIR, f'{out} is a folder; OUT is the file to write')
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(errno.ENOTDIR,
                                         f'cannot write {out}: {parent} is not a folder')
            break


def _cannot_write(out: Path, err: OSError, previous: bool = False) -> OSError:
    """One line for a failed write: what, where, why, and that nothing was changed."""
    where = f' ({shown(err.filename)})' if getattr(err, 'filename', None) else ''
    reason = err.strerror or str(err) or 'write failed'
    kept = f'; the previous {out.name} is unchanged' if previous else ''
    hint = (' (free some space or choose another output folder)'
            if err.errno == errno.ENOSPC else '')
    return OSError(err.errno, f'cannot write {out}: {reason}{where}; nothing was written'
                              f'{kept}{hint}')


def _discard(work: Path | None, written: list[Path], previous: dict | None) -> None:
    """Remove what a failed pack wrote: its work folder and the shards it wrote (never one of
    the previous set's)."""
    theirs = set((previous or {}).get('shards', []))
    if work is not None:
        shutil.rmtree(work, ignore_errors=True)
    for path in written:
        if path.name not in theirs:
            path.unlink(missing_ok=True)


def _previous(out: Path, key: str) -> dict | None:
    """What ``out`` holds now: None if absent; else ``same`` (packed with ``key``),
    ``complete`` (that, with every shard present and whole) and ``shards`` (file names)."""
    if not (out.exists() or out.is_symlink()):
        return None
    try:
        packed = fmt.PackedFile(out)
    except (ValueError, OSError):  # not a packed file (or damaged): replaced, never adopted
        return {'same': False, 'complete': False, 'shards': []}
    shards = [s['file'] for s in packed.shards]
    same = packed.attrs.get('plan_key') == key
    complete = same and all(_done(out.parent / name, key) for name in shards)
    return {'same': same, 'complete': complete, 'shards': shards}


def _shard_prefix(out: Path, key: str, previous: dict | None) -> str:
    """``OUT_NAME.TAG``: shard files are ``PREFIX-shard00000.h5``, ... With ``previous`` (given
    when resuming) packed with the same key: its prefix (its missing shards are written again).
    Else a tag from the key that no file beside ``out`` uses yet, so a new set never writes
    over the old one's shards (the same tag for the same key when nothing is there: the same
    files as an uninterrupted pack)."""
    if previous and previous['same'] and previous['shards']:
        return previous['shards'][0].rsplit('-shard', 1)[0]
    names = {p.name for p in out.parent.iterdir()}
    for n in range(1000):
        prefix = f'{out.name}.{hashlib.sha256(f"{key}:{n}".encode()).hexdigest()[:8]}'
        if not any(name.startswith(f'{prefix}-shard') for name in names):
            return prefix
    raise FileExistsError(f'cannot name the shards of {out}: 1000 prefixes are taken')


def _remove_orphan_shards(out: Path, keep: set[str]) -> None:
    """Delete shard files of ``out``'s name (``OUT_NAME.TAG-shardK.h5``) that its index does
    not use: left by a pack killed after writing them or before retiring the old set."""
    pattern = re.compile(re.escape(out.name) + r'\.[0-9a-f]{8}-shard\d{5}\.h5')
    for path in out.parent.iterdir():
        if pattern.fullmatch(path.name) and path.name not in keep:
            path.unlink(missing_ok=True)


def set_files(out: Path) -> list[Path]:
    """``out`` and the shard files its index links to (none for an unsharded file)."""
    return [out, *(out.parent / s['file'] for s in fmt.PackedFile(out).shards)]


class PackBusyError(FileExistsError):
    """Another live pack holds OUT's lock."""


class OutLock:
    """One writer per pack OUT: an exclusive lock on ``.OUT_NAME.lock`` beside it, held for the
    whole pack (work folder, shards, index). A POSIX record lock (``lockf``): the kernel drops
    it when the holder dies, so a killed pack never leaves it held, and the pool's forked
    workers do not inherit it (a ``flock`` would stay held by the orphaned workers of a killed
    pack). Its record (pid, host, since) names the holder."""

    def __init__(self, out: Path):
        self.out, self.path, self.fd = out, out.parent / f'.{out.name}.lock', None

    def acquire(self) -> 'OutLock':
        """Take the lock, or raise ``PackBusyError`` naming the live holder."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                if err.errno not in (errno.EACCES, errno.EAGAIN):
                    os.close(fd)
                    raise
                record = os.read(fd, 4096)
                os.close(fd)
                try:
                    holder = json.loads(record)
                except ValueError:
                    holder = None
                raise PackBusyError(
                    f'{self.out} is being written by another pack: {describe_holder(holder)} '
                    f'holds {self.path}; wait for it to finish or choose another OUT') from None
            try:  # a holder letting go unlinks the file: then lock the new one
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({'pid': os.getpid(), 'host': socket.gethostname(),
                                 'since': time.time()}).encode())
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self.fd)
            self.fd = None


KILL_AT = 'DANET_PACK_KILL_AT'
"""Test hook: a pack SIGKILLs itself at the point named (``segmentN``: the N-th segment this
run wrote is finished; ``mergeN``: N segments merged; ``switch``: the new set whole, before OUT
is replaced; ``retire``: after, before the old shards are deleted), so that tests kill it at a
known point, never by the clock."""


def _kill_point(point: str) -> None:
    if os.environ.get(KILL_AT) == point:
        os.kill(os.getpid(), signal.SIGKILL)


class _NoRoomToMerge(Exception):
    """Not enough free space to merge the finished segments."""


ROW_BYTES = 2048
"""Free bytes asked per manifest row for its tables, fingerprint and card share (measured:
about 1.3 KB with 60-character paths)."""


def _check_room(out: Path, work: Path, segments: list[Path], rows: int, copy: bool) -> None:
    """Refuse to start the merge without room for the tables, fingerprints and card of ``rows``
    rows (and, ``copy``: for the copy of every segment, so the disk holds the set twice),
    keeping the finished segments for ``--resume``."""
    need = rows * ROW_BYTES + SPACE_MARGIN + (
        sum(p.stat().st_size for p in segments) if copy else 0)
    free = shutil.disk_usage(work).free
    if free >= need:
        return
    what = (f'merging the {len(segments)} segments into one file copies them and needs '
            if copy else f'the index of the {len(segments)} shards needs ')
    raise _NoRoomToMerge(
        f'cannot write {out}: every image is packed, but {what}{human_bytes(need)} free on the '
        f'device of {work.parent} ({human_bytes(free)} free). Free some space and run the same '
        f'command with --resume (the segments are kept in {work}; nothing is decoded again)'
        + (', or pack with --shard-size N, which links the shards into an index instead of '
           'copying them' if copy else ''))


def _sources_digest(src: Path, groups) -> str:
    """Hash of every source file's relative path, size and mtime, in pairing order."""
    digest = hashlib.sha256()
    for group in groups:
        for path in ([group.clean] if group.clean else []) + [p for _, p in group.rainy]:
            stat = path.stat()
            digest.update(f'{path.relative_to(src)}\0{stat.st_size}\0{stat.st_mtime_ns}\n'
                          .encode())
    return digest.hexdigest()


def _segments(groups, size: int) -> list[tuple[int, int]]:
    """``[start, end)`` ranges of ``groups`` holding about ``size`` rainy images each."""
    ranges, start, count = [], 0, 0
    for i, group in enumerate(groups):
        count += len(group.rainy)
        if count >= size:
            ranges.append((start, i + 1))
            start, count = i + 1, 0
    if start < len(groups) or not ranges:
        ranges.append((start, len(groups)))
    return ranges


def _plan(work: Path, key: str, command: str, resume: bool, shard_prefix) -> dict:
    """The pack's fixed facts (``key``, ``command``, ``created``, ``shards``: the shard files'
    prefix, from ``shard_prefix()``), kept in the work folder so a resumed pack writes exactly
    what the first one would have."""
    path = work / 'plan.json'
    if resume and path.is_file():
        plan = json.loads(path.read_text())
        if plan['key'] != key:
            raise ValueError(f'cannot resume into {work}: the sources or the options differ '
                             'from the interrupted pack (drop --resume to start over)')
        if 'shards' in plan:
            return plan
        plan['shards'] = shard_prefix()  # a work folder of the packer before version 2.1
    else:
        epoch = os.environ.get('SOURCE_DATE_EPOCH')
        created = time.strftime('%Y-%m-%dT%H:%M:%S%z', time.gmtime(int(epoch)) if epoch
                                else time.localtime())
        plan = {'key': key, 'command': command, 'created': created, 'shards': shard_prefix()}
    tmp = work / 'plan.json.tmp'
    tmp.write_text(json.dumps(plan))
    os.replace(tmp, path)
    return plan


def _done(path: Path, key: str) -> bool:
    """Whether ``path`` is a finished segment of this pack (same sources and options)."""
    if not path.is_file():
        return False
    try:
        with h5py.File(path, 'r') as f:
            return f.attrs.get('plan_key') == key
    except OSError:
        return False


def _pack_segments(groups, segments, paths, problems, context, workers) -> list:
    """Write every segment not already done; return all problems found."""
    settings = context['settings']
    total = sum(len(g.rainy) for g in groups)
    stride = max(1, math.ceil(total / settings['card_pairs'])) if settings['card_pairs'] else 1
    first_rainy = np.cumsum([0] + [len(g.rainy) for g in groups])
    todo = [k for k, path in enumerate(paths)
            if not (context['resume'] and _done(path, context['key']))]
    done_rainy = total - sum(first_rainy[segments[k][1]] - first_rainy[segments[k][0]]
                             for k in todo)
    workers = workers or os.cpu_count() or 1
    with Pool(workers) as pool, tqdm(total=total, initial=done_rainy, unit='img',
                                     desc=f'pack {context["src"].name}') as bar:
        for k in todo:
            start, end = segments[k]
            jobs = (worker.Job(g, settings['convert'], settings['storage'],
                               tuple((first_rainy[i] + n) % stride == 0
                                     for n in range(len(g.rainy))))
                    for i, g in zip(range(start, end), groups[start:end], strict=True))
            results = worker.bounded_imap(pool, worker.process, jobs, 2 * workers + 2)
            problems = _write_segment(paths[k], results, problems, context, bar,
                                      int(first_rainy[end] - first_rainy[start]))
            _kill_point(f'segment{todo.index(k) + 1}')
    return problems


def _write_segment(path: Path, results, problems: list, context: dict, bar, count: int
                   ) -> list:
    """Write one segment of ``count`` rainy images from the pool's ``results`` as a complete
    packed file (renamed into place at the end); once any problem is known without
    ``skip_bad``, only decode and report."""
    settings = context['settings']
    tmp = context['work'] / f'.{path.name}.tmp'  # a killed pack leaves it in its work folder
    extra, metrics, rows = {'skipped': [], 'excluded': []}, [], 0
    writing = not problems or settings['skip_bad']
    with h5py.File(tmp, 'w') if writing else _NoFile() as f:
        if writing:
            groups = {role: f.create_group(role) for role in (fmt.LQ, fmt.GT)}
            table, fps = ManifestWriter(f, rows=count), FingerprintWriter(f, rows=count)
        for clean, rainy, found in results:
            problems = problems + found
            extra['skipped'] += [list(p) for p in found]
            bar.update(len(rainy) + len(found))
            writing = writing and (not problems or settings['skip_bad'])
            if not writing:
                continue
            background = clean if clean is not None else (rainy[0][1] if rainy else None)
            matches = _overlaps(background['fp'], context['tests']) if background else []
            if matches:
                extra['excluded'].append({
                    'clean': None if clean is None else _rel(clean, context),
                    'rainy': [name for name, _ in rainy], 'matches': matches})
                continue
            clean_index = None
            rows += len(rainy) + 1
            if clean is not None:
                clean_index = table.append('clean', _entry(clean, context))
                _write_image(groups[fmt.GT], clean_index, clean['data'], settings)
                fps.append('gt', clean['fp'])
            for name, item in rainy:
                index = table.append('rainy', {'name': name, **_entry(item, context),
                                               'clean': clean_index})
                _write_image(groups[fmt.LQ], index, item['data'], settings)
                fps.append('lq', item['fp'])
                if 'metrics' in item:
                    psnr, ssim = item['metrics']
                    metrics.append((index, psnr, np.nan if ssim is None else ssim))
        if not writing:
            return problems
        _check_free(tmp.parent, rows * ROW_BYTES + SPACE_MARGIN, 'the manifest tables, '
                    'fingerprints and card of a segment')
        _finish(f, table, fps, np.array(metrics, np.float64).reshape(-1, 3), extra, context)
    if path.parent != context['work']:
        context['written'].append(path)  # a shard beside OUT: removed if the pack fails
    os.replace(tmp, path)
    return problems


class _NoFile:
    """Stands in for the segment file while a failing pack only decodes to report."""

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _rel(item: dict, context: dict) -> str:
    return Path(item['path']).relative_to(context['src']).as_posix()


def _entry(item: dict, context: dict) -> dict:
    entry = {'path': _rel(item, context), 'shape': item['shape'], 'sha256': item['sha256']}
    if item['converted']:
        entry['converted'] = item['converted']
    return entry


def _in_memory(fps: fpm.FingerprintSet) -> fpm.FingerprintSet:
    """``fps`` read into memory: matched against every background packed."""
    return fps.subset(range(len(fps)))


def _overlaps(fp: np.ndarray, tests: list[fpm.FingerprintSet]) -> list[dict]:
    """The test backgrounds that fingerprint ``fp`` matches."""
    return [{'set': t.label, 'image': t.names[j], 'similarity': round(sim, 4), 'flip': flip}
            for t in tests for _, j, sim, flip in fpm.match(fp[None], t.fps)]


def _check_free(folder: Path, need: int, what: str) -> None:
    """Raise ENOSPC (one line, before HDF5 meets the full disk) without ``need`` bytes free."""
    free = shutil.disk_usage(folder).free
    if free < need:
        raise OSError(errno.ENOSPC, f'no space left on the device of {folder} '
                      f'({human_bytes(free)} free, {what} needs {human_bytes(need)})')


def _write_image(group: h5py.Group, index: int, data: np.ndarray, settings: dict) -> None:
    _check_free(Path(group.file.filename).parent, data.nbytes + SPACE_MARGIN, 'the next image')
    compression = None if settings['compression'] == 'none' else settings['compression']
    if data.ndim == 1:  # encoded bytes: one contiguous blob
        group.create_dataset(fmt.image_key(index), data=data)
        return
    h, w = data.shape[:2]
    group.create_dataset(fmt.image_key(index), data=data, compression=compression,
                         chunks=(min(fmt.CHUNK, h), min(fmt.CHUNK, w), 3))


def _finish(f: h5py.File, table: ManifestWriter, fps: FingerprintWriter, metrics: np.ndarray,
            extra: dict, context: dict, split: np.ndarray | None = None,
            shards: list | None = None) -> None:
    """Close the manifest tables and fingerprints; write the sampled metrics, the attributes and
    the card into ``f``."""
    settings, plan, src = context['settings'], context['plan'], context['src']
    if (src / SYNTHESIS_FILE).is_file():
        extra['synthesis'] = json.loads((src / SYNTHESIS_FILE).read_text())
    table.close(extra, split)
    fps.close()
    f.create_dataset(METRICS, data=metrics)
    manifest = Manifest.from_group(f[fmt.MANIFEST], lambda: f[fmt.MANIFEST])
    f.attrs.update({
        'format_version': fmt.FORMAT_VERSION, 'packer_version': PACKER_VERSION,
        'layout': settings['layout'], 'command': plan['command'], 'source': str(src),
        'created': plan['created'], 'content_hash': content_hash(manifest),
        'num_rainy': manifest.num_rainy, 'num_clean': manifest.num_clean,
        'storage': settings['storage'], 'plan_key': context['key']})
    if shards is not None:
        f.attrs['shards'] = json.dumps(shards)
    pairs = [(p, None if np.isnan(s) else s) for _, p, s in metrics]
    card = build_card(manifest, dict(f.attrs), pairs, f[FINGERPRINTS],
                      {'pairing': context['pairing'], **context['provenance']})
    f.create_dataset(fmt.CARD, data=json.dumps(card))


def _merge(final: Path, segments: list[Path], index_name: str | None, context: dict) -> None:
    """Join the finished segments into ``final``, a block of rows at a time: images copied, or
    (``index_name`` given, the sharded case) linked to the shard files beside the index."""
    extra, metrics, shards = {'skipped': [], 'excluded': []}, [], []
    with h5py.File(final, 'w') as f:
        groups = {role: f.create_group(role) for role in (fmt.LQ, fmt.GT)}
        rows = sum(fmt.PackedFile(p).manifest.num_rainy for p in segments)
        table, fps = ManifestWriter(f, rows=rows), FingerprintWriter(f, rows=rows)
        for number, path in enumerate(segments, 1):
            with h5py.File(path, 'r') as seg:
                part = Manifest.from_group(seg[fmt.MANIFEST], lambda s=seg: s[fmt.MANIFEST])
                offsets = {fmt.GT: table.counts['clean'], fmt.LQ: table.counts['rainy']}
                for role, count in ((fmt.GT, part.num_clean), (fmt.LQ, part.num_rainy)):
                    for i in range(count):
                        name = fmt.image_key(offsets[role] + i)
                        if index_name:
                            groups[role][name] = h5py.ExternalLink(
                                path.name, f'/{role}/{fmt.image_key(i)}')
                        else:
                            seg.copy(seg[role][fmt.image_key(i)], groups[role], name)
                _append_tables(table, part, offsets[fmt.GT])
                extra['skipped'] += part.skipped
                extra['excluded'] += part.excluded
                for role in ('gt', 'lq'):
                    fps.extend(role, seg[FINGERPRINTS][role])
                rows = np.asarray(seg[METRICS][()]).reshape(-1, 3).copy()
                rows[:, 0] += offsets[fmt.LQ]
                metrics.append(rows)
                shards.append({'file': path.name, 'content_hash': seg.attrs['content_hash'],
                               'num_rainy': part.num_rainy, 'num_clean': part.num_clean})
            _kill_point(f'merge{number}')
        extra['skipped'] = sorted(extra['skipped'] + context['found_first'])
        if not table.counts['rainy']:
            problems = [tuple(p) for p in extra['skipped']] or [
                (str(context['src']), 'no images')]
            raise BadInputError(problems, f'nothing to pack in {context["src"]}' + (
                ' after excluding overlaps' if extra['excluded'] else ''))
        table.flush()
        settings = context['settings']
        split = (_split(f[fmt.MANIFEST], settings['val_fraction'], settings['split_seed'])
                 if settings['val_fraction'] else None)
        _finish(f, table, fps, np.concatenate(metrics), extra, context, split,
                shards if index_name else None)


def _append_tables(table: ManifestWriter, part: Manifest, clean_offset: int) -> None:
    """Copy a segment's manifest rows, a block at a time, its clean indices shifted."""
    for role, count in (('clean', part.num_clean), ('rainy', part.num_rainy)):
        for start in range(0, count, BLOCK):
            columns = {c: part.column(role, c, start, start + BLOCK) for c in COLUMNS[role]}
            if role == 'rainy':
                index = columns['clean']
                columns['clean'] = np.where(index >= 0, index + clean_offset, -1)
            table.extend(role, columns)


def _split(group: h5py.Group, val_fraction: float, seed: int) -> np.ndarray:
    """Split label per rainy image (0 train, 1 val), grouped by the background's pixel hash
    (the clean image's, or the rainy image's own when it has none)."""
    index = np.asarray(group['rainy/clean'][()])
    clean = np.asarray(group['clean/sha256'][()])
    keys = np.where(index >= 0, clean[np.maximum(index, 0)] if len(clean) else b'',
                    np.asarray(group['rainy/sha256'][()]))
    try:
        halves = split_by_background([k.decode() for k in keys], val_fraction, seed)
    except ValueError as err:  # e.g. every background byte-identical
        raise ValueError(f'--val-fraction {val_fraction}: {err}') from None
    labels = np.zeros(len(keys), np.int8)
    labels[halves['val']] = 1
    return labels


def _work_folder(out: Path, resume: bool) -> Path:
    """This packer's work folder; with ``resume``, a dead packer's of this host adopted."""
    mine = out.parent / f'.{out.name}.{socket.gethostname()}.{os.getpid()}.partial'
    stale = _stale_partials(out)
    if resume and stale:
        newest = max(stale, key=lambda p: p.stat().st_mtime)
        os.replace(newest, mine)
        stale.remove(newest)
    for leftover in stale:
        _remove(leftover)
    mine.mkdir(exist_ok=True)
    return mine


def _stale_partials(out: Path) -> list[Path]:
    """``.OUT_NAME.HOST.PID.partial`` beside ``out`` of dead packers of this host, matched by
    exact name (never a glob: ``out``'s name may hold ``[``, ``?`` or ``*``)."""
    host, found = socket.gethostname(), []
    head, tail = f'.{out.name}.{host}.', '.partial'
    for leftover in out.parent.iterdir():
        name = leftover.name
        if not (name.startswith(head) and name.endswith(tail)):
            continue
        pid = name[len(head):-len(tail)]
        if pid.isdigit() and not pid_alive(int(pid)):
            found.append(leftover)
    return found


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_stale_partials(out: Path) -> None:
    """Delete ``.OUT.HOST.PID.partial`` work folders left beside ``out`` by killed packers of
    this host (what ``--resume`` would adopt).

    A partial from another host (a shared filesystem) is never touched: its pid cannot be
    checked from here, and it may belong to a live packer.
    """
    for leftover in _stale_partials(out):
        _remove(leftover)
