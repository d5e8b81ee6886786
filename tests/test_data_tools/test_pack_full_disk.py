"""Full disk at every pack write point, on a small tmpfs the test mounts (root only): exit 2 and
one line, never a traceback or a signal, nothing half-written, the previous set whole."""
import json
import subprocess
import sys

import pytest

SWEEP = r'''
import contextlib, hashlib, io, json, shutil, subprocess, sys
from pathlib import Path
from data_tools.__main__ import main
from data_tools.verify import verify
old, new, mount = (Path(a) for a in sys.argv[1:4])
sizes, results = json.loads(sys.argv[4]), []

def remount(kib):
    subprocess.run(['mount', '-o', f'remount,size={kib}k', str(mount)], check=True)

def state():
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else 'dir'
            for p in mount.iterdir()}

for scenario in ('unsharded', 'sharded', 'overwrite'):
    for kib in sizes:
        remount(16384)
        for p in mount.iterdir():
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        out = mount / 'set.h5'
        shards = [] if scenario == 'unsharded' else ['--shard-size', '2']
        if scenario == 'overwrite':
            assert main(['pack', str(old), str(out), '--workers', '1', *shards]) == 0
        before = state()
        remount(shutil.disk_usage(mount).used // 1024 + kib)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = main(['pack', str(new), str(out), '--workers', '1', '--overwrite', *shards])
        lines = [l for l in err.getvalue().replace('\r', '\n').splitlines()
                 if l and not l.startswith('pack ')]
        results.append({'scenario': scenario, 'kib': kib, 'rc': rc, 'lines': lines,
                        'before': before, 'after': state(),
                        'verify': verify(out) if out.exists() else None})
print('RESULTS', json.dumps(results))
'''


@pytest.fixture
def tmpfs(tmp_path):
    mount = tmp_path / 'disk'
    mount.mkdir()
    proc = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', str(mount)],
                          capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f'cannot mount a tmpfs here ({(proc.stderr or proc.stdout).strip()}): '
                    'the full-disk sweep needs root and mount rights (CI runs as root)')
    yield mount
    subprocess.run(['umount', str(mount)], check=True)


@pytest.mark.slow
def test_full_disk_at_every_pack_write_point(tmpfs, tmp_path, write_pairs, repo_root):
    """Free space from too little for one image to enough for the set, by steps, for a fresh
    pack (one file; shards) and a sharded --overwrite of an existing set: the pack stops at
    the image, the segment's tables/fingerprints/card or the merge, before HDF5 meets the full
    disk (which crashes h5py: tracebacks, then a segfault)."""
    old = write_pairs(tmp_path / 'old', [f'{i}.png' for i in range(4)], size=(64, 64))
    new = write_pairs(tmp_path / 'new', [f'{i}.png' for i in range(6)], size=(64, 64), seed=1)
    sizes = [40, 1100, 1300, 1700]   # KiB free: 1 MiB is kept free beyond each write
    proc = subprocess.run([sys.executable, '-c', SWEEP, str(old), str(new), str(tmpfs),
                           json.dumps(sizes)], capture_output=True, text=True, cwd=repo_root,
                          env={'PYTHONPATH': str(repo_root), 'PATH': '/usr/bin:/bin'})
    assert proc.returncode == 0, proc.stderr[-3000:]   # a segfault would be -11
    for bad in ('Traceback', 'HDF5-DIAG', 'Exception ignored', 'Segmentation'):
        assert bad not in proc.stderr, proc.stderr[-3000:]
    results = json.loads(proc.stdout.split('RESULTS ', 1)[1])
    reasons = set()
    for r in results:
        label = f'{r["scenario"]} at {r["kib"]} KiB: {r["lines"]}'
        assert r['rc'] in (0, 2), label
        if r['rc'] == 0:
            assert r['verify'] == [] and r['lines'] == [], label
            continue
        [line] = r['lines']
        assert line.startswith('error: cannot write ') and ' free' in line, label
        reasons.add('merge' if 'merging' in line else line.split(' free, ')[1].split(' needs')[0])
        kept = {k: v for k, v in r['after'].items() if k not in r['before']}
        if '--resume' in line:   # every image packed: the segments are kept for --resume
            assert all(k.endswith('.partial') for k in kept), label
        else:
            assert r['after'] == r['before'], label   # nothing half-written, the old set whole
    assert {r['rc'] for r in results} == {0, 2}
    assert reasons == {'the next image', 'merge', 'the manifest tables, fingerprints and card '
                       'of a segment'}
