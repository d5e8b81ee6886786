"""The scale benchmark (``python -m data_tools bench``): synthetic pairs through every data step.

Generates N rainy/clean pairs of SIZE×SIZE on disk, then packs them (raw and encoded storage),
kills a pack half-way and resumes it (checking the result is bit-identical), packs shards,
verifies, inspects, checks leaks against a small test set holding copies of training
backgrounds, and loads random crops with 0 and 2 DataLoader workers, page cache cold and warm
(the share of the set's pages resident when loading begins is read with ``mincore``).
Each command runs as a subprocess whose peak resident memory (its own and its workers') is
read from ``getrusage``. Prints one row per step: seconds, pairs/s, peak RSS, file size, crops/s.
"""
import ctypes
import json
import mmap
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np

from danet.datasets.pack import KILL_AT, set_files
from danet.utils.hashing import file_sha256

MEASURE = ('import resource, sys; from data_tools.__main__ import main; rc = main(sys.argv[1:]); '
           'use = resource.getrusage; print("PEAK_RSS_KIB", use(resource.RUSAGE_SELF).ru_maxrss, '
           'use(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(rc)')


def _pair(args) -> None:
    """One synthetic pair: a smooth random background and bright slanted streaks over it
    (written as ``SUFFIX`` files; JPEG at quality 95)."""
    root, index, size, seed, suffix = args
    names = [root / sub / f'{index:07d}{suffix}' for sub in ('clean', 'rainy')]
    if all(p.is_file() for p in names):  # kept from an earlier run (``--keep``)
        return
    rng = np.random.default_rng([seed, index])
    base = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
    clean = cv2.resize(base, (size, size), interpolation=cv2.INTER_CUBIC)
    clean = np.clip(clean + rng.normal(0, 4, clean.shape), 0, 255).astype(np.uint8)
    streaks = np.zeros((size, size), np.float32)
    for _ in range(size // 4):
        x, y = rng.integers(0, size, 2)
        cv2.line(streaks, (int(x), int(y)), (int(x) + size // 32, int(y) + size // 10), 1.0, 1)
    rainy = np.clip(clean + 90 * streaks[..., None], 0, 255).astype(np.uint8)
    for path, img in zip(names, (clean, rainy), strict=True):
        tmp = path.with_name(f'.{path.name}')  # whole files only, so a killed run resumes
        cv2.imwrite(str(tmp), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        os.replace(tmp, path)


def generate(root: Path, pairs: int, size: int, seed: int, workers: int,
             suffix: str = '.png') -> None:
    """``pairs`` synthetic pairs in the ``pairs`` layout under ``root`` (existing ones kept)."""
    for sub in ('clean', 'rainy'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    with Pool(workers) as pool:
        pool.map(_pair, [(root, i, size, seed, suffix) for i in range(pairs)], chunksize=64)


def run(argv: list[str], kill_at: str | None = None) -> dict:
    """Run ``python -m data_tools ARGV`` and return seconds, exit code and peak RSS (MiB);
    with ``kill_at``, the pack SIGKILLs itself at that point (``pack.KILL_AT``): the kill
    lands where it is meant to whatever the machine's speed."""
    env = {**os.environ, 'SOURCE_DATE_EPOCH': '1700000000',
           **({KILL_AT: kill_at} if kill_at else {}),
           'PYTHONPATH': os.pathsep.join(filter(None, [str(Path(__file__).parents[1]),
                                                       os.environ.get('PYTHONPATH')]))}
    print(f'bench {time.strftime("%H:%M:%S")}: data_tools {" ".join(argv)}', file=sys.stderr,
          flush=True)
    start = time.perf_counter()
    # files, not pipes: a full pipe would block the command on its progress bar
    with tempfile.TemporaryFile('w+') as out_file, tempfile.TemporaryFile('w+') as err_file:
        proc = subprocess.Popen([sys.executable, '-c', MEASURE, *argv], env=env,
                                stdout=out_file, stderr=err_file, text=True)
        proc.wait()
        seconds = time.perf_counter() - start
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    peaks = [line.split()[1:] for line in err.splitlines() if line.startswith('PEAK_RSS_KIB')]
    if proc.returncode not in (0, 3, -signal.SIGKILL):
        raise RuntimeError(f'data_tools {" ".join(argv)} failed ({proc.returncode}):\n'
                           f'{err[-3000:]}')
    main_kib, child_kib = (int(v) for v in peaks[0]) if peaks else (0, 0)
    return {'s': seconds, 'rc': proc.returncode, 'rss_mib': main_kib / 1024,
            'worker_rss_mib': child_kib / 1024, 'stdout': out}


def load_rate(path: Path, crop: int, workers: int, batches: int, cold: bool,
              batch: int = 16) -> tuple[float, float]:
    """Random ``crop``² crops (+ flip/rot) per second from a packed file under the thread
    policy, and the fraction of the set's pages in the page cache when loading began: ``cold``
    drops the files from the page cache first (``fsync``, ``posix_fadvise DONTNEED``), warm
    reads them whole first (all of them stay cached only if the page cache can hold the set)."""
    from danet.benchmarks.loader import crops_per_second
    from danet.datasets.h5_dataset import H5PairedDataset
    from danet.utils.threads import apply_thread_policy
    apply_thread_policy(workers)
    files = set_files(path)
    for file in files:
        if cold:  # dirty pages cannot be dropped: written back first
            fd = os.open(file, os.O_RDONLY)
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
        else:
            with open(file, 'rb') as handle:
                while handle.read(1 << 24):
                    pass
    cached = cached_fraction(files)
    data = H5PairedDataset(str(path), pipeline=[dict(type='PairedRandomCrop', crop_size=crop),
                                                 dict(type='PairedFlipRot8')])
    return crops_per_second(data, batch * batches, workers, batch), cached


def cached_fraction(files: list[Path]) -> float:
    """The fraction of the files' pages in the page cache (``mincore`` over a private map)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_ubyte)]
    resident = total = 0
    for file in files:
        size = file.stat().st_size
        if not size:
            continue
        with open(file, 'rb') as handle:
            mapped = mmap.mmap(handle.fileno(), size, access=mmap.ACCESS_COPY)
        try:
            view = (ctypes.c_char * size).from_buffer(mapped)
            pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
            vector = (ctypes.c_ubyte * pages)()
            if libc.mincore(ctypes.addressof(view), size, vector):
                raise OSError(ctypes.get_errno(), f'mincore failed on {file}')
            del view
            resident += int(np.count_nonzero(np.frombuffer(vector, np.uint8) & 1))
            total += pages
        finally:
            mapped.close()
    return resident / total if total else 0.0


def _row(step: str, result: dict, pairs: int | None = None, path: Path | None = None) -> dict:
    row = {'step': step, 'seconds': round(result['s'], 2),
           'rss_mib': round(result['rss_mib']), 'worker_rss_mib': round(result['worker_rss_mib'])}
    if pairs:
        row['pairs_per_s'] = round(pairs / result['s'], 1)
    if path is not None:
        row['mib'] = round(sum(p.stat().st_size for p in set_files(path)) / 2 ** 20, 1)
    return row


def benchmark(pairs: int, size: int, workers: int, root: Path | None = None,
              batches: int = 20, seed: int = 0, skip=(), suffix: str = '.png',
              shard_size: int | None = None) -> list[dict]:
    """Every step on ``pairs`` synthetic pairs (``suffix`` files); the rows printed by
    ``format_rows``. ``skip`` may name ``encoded`` and ``shards`` (those packs, with their
    verify and loading rows) and ``resume`` (the killed and resumed pack). ``shard_size``
    shards the main pack (and the killed one) too: no merge copy, so the disk holds the set
    once, not twice."""
    keep = root is not None
    root = Path(root or tempfile.mkdtemp(prefix='danet-bench-'))
    src, test = root / 'src', root / 'test'
    rows = []
    try:
        start = time.perf_counter()
        generate(src, pairs, size, seed, workers, suffix)
        generate(test, max(8, pairs // 100), size, seed + 1, workers, suffix)
        for i in range(0, pairs, max(1, pairs // 5)):  # 5 training backgrounds leak into test
            for sub in ('clean', 'rainy'):
                shutil.copy(src / sub / f'{i:07d}{suffix}', test / sub / f'leak{i:07d}{suffix}')
        rows.append({'step': f'generate {pairs} pairs {size}x{size}',
                     'seconds': round(time.perf_counter() - start, 2)})
        w = ['--workers', str(workers)]
        raw, enc, sharded = root / 'raw.h5', root / 'encoded.h5', root / 'sharded' / 'set.h5'
        source_mib = sum(p.stat().st_size for p in src.rglob(f'*{suffix}')) / 2 ** 20
        rows.append({'step': f'source {suffix[1:].upper()} files', 'mib': round(source_mib, 1)})
        shards = ['--shard-size', str(shard_size)] if shard_size else []
        step = ' '.join(['pack raw', *shards])
        rows.append(_row(step, run(['pack', str(src), str(raw), *w, *shards]), pairs, raw))
        sets = [('raw', raw)]
        if 'encoded' not in skip:
            rows.append(_row('pack encoded', run(['pack', str(src), str(enc), *w, '--storage',
                                                  'encoded']), pairs, enc))
            sets.append(('encoded', enc))
        if 'resume' not in skip:
            rows += _kill_and_resume(src, raw, pairs, w + shards)
        if 'shards' not in skip and not shard_size:
            rows.append(_row('pack --shard-size N/4', run([
                'pack', str(src), str(sharded), *w, '--shard-size', str(max(1, pairs // 4))]),
                pairs, sharded))
            sets.append(('sharded', sharded))
        for name, path in sets:
            rows.append(_row(f'verify {name}', run(['verify', str(path)]), pairs))
        rows.append(_row('inspect', run(['inspect', str(raw)])))
        leaks = run(['leaks', str(raw), str(test), *w, '--json', str(root / 'leaks.json')])
        found = len(json.loads((root / 'leaks.json').read_text())['leaks'])
        rows.append({**_row('leaks raw.h5 vs test folder', leaks, pairs),
                     'note': f'{found} leaking pairs found'})
        crop = min(size, 256)
        for name, path in sets:
            for loader_workers in (0, 2):
                for cold in (True, False):
                    rate, cached = load_rate(path, crop, loader_workers, batches, cold)
                    rows.append({'step': f'load {name} {crop}² crops, {loader_workers} workers, '
                                         f'{"cold" if cold else "warm"}',
                                 'crops_per_s': round(rate, 1),
                                 'note': f'{100 * cached:.1f}% of the set in the page cache'})
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    return rows


def _kill_and_resume(src: Path, raw: Path, pairs: int, w: list[str]) -> list[dict]:
    """Pack again into ``raw``'s place, SIGKILL it once half its segments are written (the
    pack kills itself there: ``pack.KILL_AT``), resume; the two rows. Only the first pack's
    hashes are kept while the second runs (the set's disk space once)."""
    files = set_files(raw)
    reference = [file_sha256(p) for p in files]
    for path in files:
        path.unlink()
    segments = len(files) - 1 if '--shard-size' in w else max(1, pairs // 256)
    killed = run(['pack', str(src), str(raw), *w], kill_at=f'segment{max(1, segments // 2)}')
    resumed = run(['pack', str(src), str(raw), *w, '--resume'])
    same = [file_sha256(p) for p in set_files(raw)] == reference
    return [{**_row('pack killed half-way', killed), 'note': f'exit {killed["rc"]}'},
            {**_row('pack --resume', resumed, pairs, raw),
             'note': 'bit-identical' if same else 'DIFFERS from the uninterrupted pack'}]


def format_rows(rows: list[dict]) -> str:
    keys = ('seconds', 'pairs_per_s', 'rss_mib', 'worker_rss_mib', 'mib', 'crops_per_s', 'note')
    header = ('step', 's', 'pairs/s', 'peak RSS MiB', 'worker RSS MiB', 'file MiB', 'crops/s',
              'note')
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join([r['step'], *(str(r.get(k, '')) for k in keys)]) + ' |'
              for r in rows]
    return '\n'.join(lines)
