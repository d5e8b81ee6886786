"""The packer's guards: options checked first, one writer per OUT, the previous set whole until
the new one is complete, shard names from OUT's full name, exact names (no glob), resume of a
finished pack a no-op, small tables for small sets."""
import os
import signal
import socket
import subprocess
import sys
import time

import h5py
import pytest

from danet.datasets import h5format as fmt
from danet.datasets import pack as packing
from danet.datasets.pack import KILL_AT, pack, set_files
from danet.utils.fileio import human_bytes
from danet.utils.hashing import file_sha256
from data_tools.__main__ import main
from data_tools.verify import verify

DEAD = 2 ** 22 + 4321   # above the default pid_max: never a live process


def _state(out):
    """Every file of the set (index and shards) with its SHA-256."""
    return {p.name: file_sha256(p) for p in set_files(out)}


@pytest.mark.parametrize('option', [
    ['--val-fraction', '1.5'], ['--val-fraction', 'nan'], ['--val-fraction', '-0.1'],
    ['--val-fraction', '1.0'], ['--split-seed', '-1'], ['--card-pairs', '-1'],
    ['--shard-size', '0'], ['--workers', '0']])
def test_bad_options_are_refused_before_any_work(option, tmp_path, write_pairs, capsys,
                                                 monkeypatch):
    src = write_pairs(tmp_path / 'src', ['a.png', 'b.png'])
    monkeypatch.setattr(packing, '_pack_segments', None)   # decoding would fail differently
    out = tmp_path / 'out' / 'set.h5'
    assert main(['pack', str(src), str(out), *option]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f'error: {option[0]} {option[1]}') and '\n' not in err
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_a_split_of_one_background_is_refused_before_decoding(tmp_path, write_pairs, capsys,
                                                              monkeypatch):
    src = write_pairs(tmp_path / 'src', ['a.png'])
    monkeypatch.setattr(packing, '_pack_segments', None)
    assert main(['pack', str(src), str(tmp_path / 'set.h5'), '--val-fraction', '0.5']) == 2
    assert '--val-fraction 0.5: ' in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['src']


def test_resume_of_a_complete_out_is_a_no_op(tmp_path, write_pairs, capsys):
    src = write_pairs(tmp_path / 'src', ['a.png', 'b.png', 'c.png'])
    for shard in ([], ['--shard-size', '2']):
        out = tmp_path / f'set{len(shard)}.h5'
        assert main(['pack', str(src), str(out), '--workers', '1', *shard]) == 0
        before = {p.name: p.stat().st_mtime_ns for p in set_files(out)}
        capsys.readouterr()
        assert main(['pack', str(src), str(out), '--workers', '1', '--resume', *shard]) == 0
        assert 'already complete (same sources and options): nothing to do' in \
            capsys.readouterr().err
        assert {p.name: p.stat().st_mtime_ns for p in set_files(out)} == before
        # other options are another pack: it needs --overwrite
        assert main(['pack', str(src), str(out), '--workers', '1', '--resume', *shard,
                     '--card-pairs', '1']) == 2
        assert '--overwrite' in capsys.readouterr().err


def test_shard_names_come_from_the_full_out_name(tmp_path, write_pairs):
    """``foo.h5``, ``foo.hdf5`` and ``foo`` are three sets: none replaces another's shards."""
    folder = tmp_path / 'out'
    hashes = {}
    for k, name in enumerate(('foo.h5', 'foo.hdf5', 'foo')):
        src = write_pairs(tmp_path / f'src{k}', ['a.png', 'b.png', 'c.png'], seed=k)
        pack(src, folder / name, workers=1, shard_size=2)
        hashes[name] = fmt.PackedFile(folder / name).content_hash
    for name, content in hashes.items():
        assert fmt.PackedFile(folder / name).content_hash == content
        assert verify(folder / name) == []
        assert all(p.name.startswith(f'{name}.') for p in set_files(folder / name)[1:])
    assert len(set(hashes.values())) == 3


def test_a_failed_sharded_overwrite_keeps_the_old_set_whole(tmp_path, write_pairs, capsys):
    old = write_pairs(tmp_path / 'old', [f'{i}.png' for i in range(4)])
    new = write_pairs(tmp_path / 'new', [f'{i}.png' for i in range(6)], seed=1)
    (new / 'rainy' / '5.png').write_bytes(b'not an image')   # found after 2 shards are written
    out = tmp_path / 'out' / 'set.h5'
    pack(old, out, workers=1, shard_size=2)
    before = _state(out)
    assert main(['pack', str(new), str(out), '--shard-size', '2', '--workers', '1',
                 '--overwrite']) == 2
    assert '5.png' in capsys.readouterr().err
    assert _state(out) == before and verify(out) == []
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(before)


@pytest.mark.slow
def test_a_killed_sharded_overwrite_never_mixes_two_sets(tmp_path, write_pairs, repo_root):
    """Killed while writing the new shards, with the new index whole, and after the switch: the
    index always names one whole set (the old one until the switch), and the next pack leaves
    only the new set's files."""
    old = write_pairs(tmp_path / 'old', [f'{i}.png' for i in range(4)])
    new = write_pairs(tmp_path / 'new', [f'{i}.png' for i in range(6)], seed=1)
    out = tmp_path / 'out' / 'set.h5'
    pack(new, tmp_path / 'new.h5', workers=1)
    new_hash = fmt.PackedFile(tmp_path / 'new.h5').content_hash
    for point, switched in (('segment2', False), ('switch', False), ('retire', True)):
        pack(old, out, workers=1, shard_size=2, overwrite=True)
        old_hash = fmt.PackedFile(out).content_hash
        proc = subprocess.run([sys.executable, '-m', 'data_tools', 'pack', str(new), str(out),
                               '--shard-size', '2', '--workers', '1', '--overwrite'],
                              cwd=repo_root, capture_output=True,
                              env={**os.environ, KILL_AT: point, 'PYTHONPATH': str(repo_root)})
        assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
        assert fmt.PackedFile(out).content_hash == (new_hash if switched else old_hash)
        assert verify(out) == [], point
        pack(new, out, workers=1, shard_size=2, overwrite=True)
        visible = sorted(p.name for p in out.parent.iterdir() if not p.name.startswith('.'))
        assert visible == sorted(p.name for p in set_files(out)) and verify(out) == []


HOLD = '''
import pathlib, sys, time
from danet.datasets import pack as packing
from danet.utils.fileio import human_bytes
real = packing._write_segment
def held(*args, **kwargs):
    flag = pathlib.Path(sys.argv[3])
    flag.touch()
    while flag.exists():
        time.sleep(0.01)
    return real(*args, **kwargs)
packing._write_segment = held
packing.pack(sys.argv[1], sys.argv[2], workers=1)
'''


@pytest.mark.slow
def test_one_writer_per_out(tmp_path, write_pairs, repo_root, capsys):
    """A second pack into an OUT being written exits 2 naming the first (a real process, held
    inside its first segment until the test lets it go), and changes nothing."""
    first = write_pairs(tmp_path / 'first', ['a.png', 'b.png'])
    second = write_pairs(tmp_path / 'second', ['c.png'], seed=1)
    out, flag = tmp_path / 'out' / 'set.h5', tmp_path / 'held'
    env = {**os.environ, 'PYTHONPATH': str(repo_root)}
    holder = subprocess.Popen([sys.executable, '-c', HOLD, str(first), str(out), str(flag)],
                              cwd=repo_root, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300   # a safety net only: the loop waits for the flag
    while not flag.exists():   # waits for the holder to reach its segment, not for a time
        assert holder.poll() is None and time.time() < deadline, holder.stderr.read()[-2000:]
        time.sleep(0.01)
    for extra in ([], ['--overwrite'], ['--resume']):   # this process is the second writer
        assert main(['pack', str(second), str(out), '--workers', '1', *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f'error: {out} is being written by another pack: pid '
                              f'{holder.pid} on ') and '\n' not in err
    flag.unlink()
    assert holder.wait(60) == 0, holder.stderr.read()[-2000:]
    packed = fmt.PackedFile(out)
    assert packed.attrs['source'] == str(first) and packed.manifest.num_rainy == 2
    assert not (out.parent / '.set.h5.lock').exists()


@pytest.mark.parametrize('name', ['set[1].h5', 'set?.h5', 'set*.h5'])
def test_glob_characters_in_out_resume_their_own_partial_only(name, tmp_path, write_pairs,
                                                              monkeypatch):
    src = write_pairs(tmp_path / 'src', [f'{i}.png' for i in range(4)])
    out = tmp_path / name
    host = socket.gethostname()
    decoy = tmp_path / f'.set1.h5.{host}.{DEAD}.partial'   # another set's, which a glob matches
    decoy.mkdir()
    (decoy / 'plan.json').write_text('{}')

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt   # leaves the work folder, as a kill does
    real = packing._merge
    monkeypatch.setattr(packing, '_merge', interrupted)
    with pytest.raises(KeyboardInterrupt):
        pack(src, out, workers=1, segment_pairs=2)
    [mine] = [p for p in tmp_path.iterdir() if p.name.startswith(f'.{name}.')]
    mine.rename(tmp_path / f'.{name}.{host}.{DEAD}.partial')   # its packer "died"
    monkeypatch.setattr(packing, '_merge', real)
    process = packing.worker.process
    monkeypatch.setattr(packing.worker, 'process', None)   # resumed: nothing decoded again
    pack(src, out, workers=1, segment_pairs=2, resume=True)
    assert verify(out) == [] and fmt.PackedFile(out).manifest.num_rainy == 4
    assert (decoy / 'plan.json').is_file()   # never adopted, never deleted
    monkeypatch.setattr(packing.worker, 'process', process)
    pack(src, out, workers=1, segment_pairs=2, overwrite=True)
    assert (decoy / 'plan.json').is_file()


def test_small_sets_get_small_tables(tmp_path, write_pairs):
    """A 12-pair 64x48 set: tables and fingerprints chunked to the set, not 4,096 rows."""
    src = write_pairs(tmp_path / 'src', [f'{i:02d}.png' for i in range(12)], size=(48, 64))
    out = tmp_path / 'set.h5'
    pack(src, out, workers=1)
    pixels = 24 * 48 * 64 * 3
    assert out.stat().st_size < pixels + 300_000, out.stat().st_size   # was 3.3 MB
    with h5py.File(out) as f:
        assert f['manifest/rainy/sha256'].chunks[0] <= 12
        assert f['fingerprints/lq'].chunks[0] <= 12


def test_write_errors_name_their_file_and_sizes_read_well(tmp_path, write_pairs, capsys):
    src = write_pairs(tmp_path / 'src', ['a.png'])
    (tmp_path / 'plain').write_text('a file, not a folder')
    assert main(['pack', str(src), str(tmp_path / 'plain' / 'set.h5')]) == 2
    assert capsys.readouterr().err.strip() == (f'error: cannot write {tmp_path}/plain/set.h5: '
                                               f'{tmp_path}/plain is not a folder')
    assert main(['card', str(tmp_path / 'missing.h5')]) == 2
    assert str(tmp_path / 'missing.h5') in capsys.readouterr().err
    assert [human_bytes(n) for n in (512, 4.8e6, 0.02 * 2 ** 30, 3 * 2 ** 40)] == [
        '512 bytes', '4.58 MiB', '20.5 MiB', '3072 GiB']


def test_read_only_folder_is_named(tmp_path, write_pairs, capsys):
    mount = tmp_path / 'ro'
    mount.mkdir()
    proc = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', str(mount)],
                          capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f'cannot mount a read-only tmpfs here ({proc.stderr.strip()}): needs root')
    try:
        src = write_pairs(tmp_path / 'src', ['a.png'])
        assert main(['pack', str(src), str(mount / 'sub' / 'set.h5')]) == 2
        err = capsys.readouterr().err.strip()
        assert err == (f'error: cannot write {mount}/sub/set.h5: Read-only file system '
                       f'({mount}/sub); nothing was written')
        pack(src, tmp_path / 'set.h5', workers=1)
        capsys.readouterr()
        assert main(['card', str(tmp_path / 'set.h5'), '--out', str(mount / 'card.md')]) == 2
        assert capsys.readouterr().err.strip() == (f'error: cannot write {mount}/card.md: '
                                                   'Read-only file system')
    finally:
        subprocess.run(['umount', str(mount)], check=True)


def test_overwrite_with_the_same_sources_writes_new_shards_beside_the_old(tmp_path, write_pairs,
                                                                          monkeypatch):
    """Even a re-pack of the same sources never writes over the shards the index links to."""
    src = write_pairs(tmp_path / 'src', ['a.png', 'b.png', 'c.png'])
    out = tmp_path / 'out' / 'set.h5'
    pack(src, out, workers=1, shard_size=2)
    before = _state(out)

    def stop(point):
        if point == 'switch':
            raise KeyboardInterrupt   # as a kill just before OUT is replaced
    monkeypatch.setattr(packing, '_kill_point', stop)
    with pytest.raises(KeyboardInterrupt):
        pack(src, out, workers=1, shard_size=2, overwrite=True)
    assert _state(out) == before and verify(out) == []
    monkeypatch.undo()
    pack(src, out, workers=1, shard_size=2, overwrite=True)
    after = _state(out)
    assert set(after) & set(before) == {'set.h5'}   # new shard names; the old ones gone
    visible = {p.name for p in out.parent.iterdir() if not p.name.startswith('.')}
    assert visible == set(after) and verify(out) == []


def test_cache_in_place_checks_room_first(tmp_path, write_pairs, capsys, monkeypatch):
    """``leaks --cache-in-place`` writes into a packed file: without room it stops before HDF5
    meets the full disk, with one line, the file untouched."""
    out = tmp_path / 'set.h5'
    pack(write_pairs(tmp_path / 'src', ['a.png', 'b.png']), out, workers=1)
    with h5py.File(out, 'a') as f:
        del f['fingerprints']   # as packed before fingerprints were stored
    before = file_sha256(out)
    real = packing.shutil.disk_usage
    monkeypatch.setattr(packing.shutil, 'disk_usage',
                        lambda p: real(p)._replace(free=100_000))
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    assert main(['leaks', str(out), '--cache-in-place']) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f'error: cannot cache fingerprints in {out}: 97.7 KiB free')
    assert file_sha256(out) == before
