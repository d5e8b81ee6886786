"""Packing at scale: resume after SIGKILL (bit-identical), flat memory, shards, encoded storage."""
import errno
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from danet.datasets import h5format as fmt
from danet.datasets import pack as packing
from danet.datasets.h5_dataset import H5PairedDataset
from danet.datasets.image_files import decode_rgb
from danet.datasets.pack import pack
from data_tools.__main__ import main

PACK = ('import sys; from danet.datasets.pack import pack; '
        'pack(sys.argv[1], sys.argv[2], workers=1, segment_pairs=int(sys.argv[3]), '
        'resume=sys.argv[4] == "1", command="test")')


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _start(src, out, segment, resume, repo_root, kill_at=None):
    env = {**os.environ, 'SOURCE_DATE_EPOCH': '1700000000', 'PYTHONPATH': str(repo_root),
           **({packing.KILL_AT: kill_at} if kill_at else {})}
    return subprocess.Popen([sys.executable, '-c', PACK, str(src), str(out), str(segment),
                             '1' if resume else '0'], cwd=repo_root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _segments(folder):
    return {p.name: p.stat().st_mtime_ns for p in folder.glob('.*.partial/segment*.h5')}


@pytest.mark.slow
def test_sigkill_at_several_points_resumes_bit_identical(tmp_path, write_pairs, repo_root,
                                                         monkeypatch):
    src = write_pairs(tmp_path / 'src', [f'{i:03d}.png' for i in range(40)], size=(96, 128))
    out = tmp_path / 'out' / 'set.h5'
    monkeypatch.setenv('SOURCE_DATE_EPOCH', '1700000000')
    pack(src, out, workers=1, segment_pairs=4, command='test')  # the uninterrupted pack
    reference = sha256(out)
    out.rename(out.with_name('reference.h5'))
    # the pack SIGKILLs itself (never a race with the clock) when 1 then 5 segments are
    # finished, then once the merge has copied 2 segments
    kept = {}
    for resume, kill_at, count in ((False, 'segment1', 1), (True, 'segment4', 5),
                                   (True, 'merge2', 10)):
        proc = _start(src, out, 4, resume, repo_root, kill_at)
        assert proc.wait(120) == -signal.SIGKILL
        assert not out.exists()  # never looks complete
        now = _segments(out.parent)
        assert len(now) == count
        assert all(now.get(name) == mtime for name, mtime in kept.items()), \
            'a finished segment was written again instead of being kept'
        kept = now
    assert list(out.parent.glob('.*.partial/final.h5'))
    proc = _start(src, out, 4, True, repo_root)
    assert proc.wait(120) == 0, proc.stderr.read().decode()[-2000:]
    assert sha256(out) == reference
    assert not list(out.parent.glob('.*.partial'))


def test_no_room_to_merge_keeps_the_segments_for_resume(tmp_path, write_pairs, monkeypatch):
    """The merge copies every segment, so the disk must hold the set twice: without that room
    the pack stops before copying, says so, and ``--resume`` merges later without decoding."""
    monkeypatch.setenv('SOURCE_DATE_EPOCH', '1700000000')
    src = write_pairs(tmp_path / 'src', [f'{i:02d}.png' for i in range(12)], size=(32, 32))
    pack(src, tmp_path / 'reference.h5', workers=1, segment_pairs=4)
    out = tmp_path / 'out' / 'set.h5'
    real = shutil.disk_usage

    def little_room(path):  # room for each image, not for the copy of the segments
        usage = real(path)
        return usage._replace(free=packing.SPACE_MARGIN + 40_000)

    monkeypatch.setattr(shutil, 'disk_usage', little_room)
    with pytest.raises(OSError, match=r'merging the 3 segments .* --resume') as err:
        pack(src, out, workers=1, segment_pairs=4)
    assert err.value.errno == errno.ENOSPC and not out.exists()
    kept = _segments(out.parent)
    assert len(kept) == 3
    monkeypatch.setattr(shutil, 'disk_usage', real)
    monkeypatch.setattr(packing.worker, 'process', None)  # nothing may be decoded again
    pack(src, out, workers=1, segment_pairs=4, resume=True)
    assert sha256(out) == sha256(tmp_path / 'reference.h5')
    assert not list(out.parent.glob('.*'))


def test_resume_refuses_changed_sources(tmp_path, write_pairs, repo_root):
    src = write_pairs(tmp_path / 'src', [f'{i}.png' for i in range(6)])
    work = tmp_path / f'.out.h5.{os.uname().nodename}.{2 ** 22 + 7}.partial'
    work.mkdir()
    (work / 'plan.json').write_text(json.dumps({'key': 'other', 'command': '', 'created': ''}))
    with pytest.raises(ValueError, match='differ from the interrupted pack'):
        pack(src, tmp_path / 'out.h5', workers=1, resume=True)


PEAK = ('import resource, sys; from danet.datasets.pack import pack; '
        'pack(sys.argv[1], sys.argv[2], workers=1, segment_pairs=16, card_pairs=16); '
        'print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)')


@pytest.mark.slow
def test_peak_memory_flat_in_the_number_of_pairs(tmp_path, write_pairs, repo_root):
    """Peak RSS of the packing process at 4× the pairs within 6 MiB of 1× (pixels streamed)."""
    peaks = []
    for count in (40, 160):
        src = write_pairs(tmp_path / f'src{count}', [f'{i:03d}.png' for i in range(count)],
                          size=(192, 192))
        proc = subprocess.run([sys.executable, '-c', PEAK, str(src), str(tmp_path / f'{count}.h5')],
                              capture_output=True, text=True, cwd=repo_root,
                              env={**os.environ, 'PYTHONPATH': str(repo_root)})
        assert proc.returncode == 0, proc.stderr[-2000:]
        peaks.append(int(proc.stdout.split()[-1]) / 1024)
    # 120 more pairs hold 120 × 2 × 108 KiB = 25 MiB of pixels; only their rows may stay
    assert peaks[1] - peaks[0] < 6, f'peak RSS {peaks[0]:.0f} MiB -> {peaks[1]:.0f} MiB'


ROWS_PEAK = ('import sys, tracemalloc; from danet.datasets import fingerprint; '
             'from danet.datasets.pack import pack; '
             'fingerprint.match.__defaults__ = (None, fingerprint.THRESHOLD, 64, 64); '
             'tracemalloc.start(); '
             'pack(sys.argv[1], sys.argv[2], workers=1, segment_pairs=64, card_pairs=16, '
             'shard_size=int(sys.argv[3]) or None); '
             'print(tracemalloc.get_traced_memory()[1])')


@pytest.mark.slow
def test_peak_memory_flat_in_the_manifest_rows(tmp_path, write_pairs, repo_root):
    """Many tiny pairs, so that what grows per row is what is measured: the packing process's
    peak Python heap (tracemalloc: numpy's buffers included, HDF5's bounded caches not) for
    1,600 pairs stays within 3 MiB of 400. Measured: +1.3 MiB (the plan's source paths, about
    1 KB a pair, and the names sorted for the content hash); the packer that gathered the
    manifest and card as JSON documents at the merge added 7.1 MiB. The duplicate search's
    working set, bounded by its blocks (about 60 MB at the defaults, reached from 2,048
    images on), is shrunk here so that it does not hide the rows."""
    peaks = []
    for count in (400, 1600):
        src = write_pairs(tmp_path / f'src{count}', [f'{i:04d}.png' for i in range(count)],
                          size=(12, 12))
        out = tmp_path / f'set{count}' / 'set.h5'
        proc = subprocess.run([sys.executable, '-c', ROWS_PEAK, str(src), str(out),
                               '0'], capture_output=True, text=True, cwd=repo_root,
                              env={**os.environ, 'PYTHONPATH': str(repo_root)})
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert fmt.PackedFile(out).manifest.num_rainy == count
        peaks.append(int(proc.stdout.split()[-1]) / 2 ** 20)
    assert peaks[1] - peaks[0] < 3, f'peak heap {peaks[0]:.1f} MiB -> {peaks[1]:.1f} MiB'


def test_shards_read_as_one_set_everywhere(tmp_path, write_pairs, capsys, monkeypatch):
    src = write_pairs(tmp_path / 'src', [f'{i:02d}.png' for i in range(10)])
    whole, index = tmp_path / 'whole.h5', tmp_path / 'sharded' / 'set.h5'
    pack(src, whole, workers=1)
    pack(src, index, workers=1, shard_size=4, val_fraction=0.3)
    shards = packing.set_files(index)[1:]
    prefix = shards[0].name.rsplit('-', 1)[0]   # named from OUT's full name and a tag
    assert re.fullmatch(r'set\.h5\.[0-9a-f]{8}', prefix)
    assert [p.name for p in shards] == [f'{prefix}-shard{k:05d}.h5' for k in range(3)]
    assert sorted(index.parent.glob('*shard*')) == shards
    one, many = fmt.PackedFile(whole), fmt.PackedFile(index)
    assert many.content_hash == one.content_hash and len(many.shards) == 3
    for i in range(10):
        assert np.array_equal(many.rainy(i)[()], one.rainy(i)[()])
        assert np.array_equal(many.clean(i)[()], one.clean(i)[()])
    data = H5PairedDataset(str(index), split='train')
    assert len(data) + len(many.manifest.split['val']) == 10 and data[0]['inputs'].shape[0] == 3
    monkeypatch.chdir(tmp_path)  # shards are found beside the index, not from the working folder
    assert main(['verify', str(index)]) == 0
    assert main(['inspect', str(index)]) == 0
    assert json.loads(capsys.readouterr().out.split('\n', 1)[-1] or '{}') is not None
    assert main(['leaks', str(index), str(src)]) == 3  # the same backgrounds, as one set
    capsys.readouterr()
    assert main(['list', str(tmp_path / 'sharded')]) == 0
    [row] = capsys.readouterr().out.splitlines()  # the index only, with its shards
    assert 'shards=3' in row and 'rainy=10' in row
    # a failed shard is named, and re-packed alone
    mtimes = {p.name: p.stat().st_mtime_ns for p in shards}
    shards[1].unlink()
    assert main(['verify', str(index)]) == 1
    assert shards[1].name in capsys.readouterr().out
    assert main(['pack', str(src), str(index), '--shard-size', '4', '--val-fraction', '0.3',
                 '--workers', '1', '--resume', '--overwrite']) == 0
    assert {p.name: p.stat().st_mtime_ns for p in shards if p != shards[1]} == \
        {k: v for k, v in mtimes.items() if k != shards[1].name}
    assert fmt.PackedFile(index).content_hash == one.content_hash
    assert main(['verify', str(index)]) == 0


def test_encoded_storage_round_trips_and_loads(tmp_path, write_pairs):
    src = write_pairs(tmp_path / 'src', [f'{i}.png' for i in range(4)], size=(40, 56))
    raw, encoded = tmp_path / 'raw.h5', tmp_path / 'png.h5'
    pack(src, raw, workers=1)
    pack(src, encoded, workers=1, storage='encoded')
    a, b = fmt.PackedFile(raw), fmt.PackedFile(encoded)
    assert b.encoded and not a.encoded and a.content_hash == b.content_hash
    for i, row in enumerate(b.manifest.rows('rainy')):
        assert np.array_equal(b.rainy(i), decode_rgb(src / row['path'])[0])
        assert np.array_equal(b.clean(i), a.clean(i)[()])
    crop = H5PairedDataset(str(encoded), pipeline=[dict(type='PairedRandomCrop', crop_size=32)])
    assert crop[0]['inputs'].shape == (3, 32, 32)
    assert main(['verify', str(encoded)]) == 0


def test_many_to_one_layouts_pair_and_record_their_rule(tmp_path, write_pairs):
    """RESIDE (hazy ID_A_B → clear ID), LOL (low/ ↔ high/) and a SPA-Data list file."""
    reside = tmp_path / 'reside'
    write_pairs(reside, ['0001.png', '0002.png'])
    (reside / 'clean').rename(reside / 'clear')
    shutil.rmtree(reside / 'rainy')
    hazy = reside / 'hazy'
    hazy.mkdir()
    for name in ('0001_0.8_0.2.png', '0001_0.9_0.1.png', '0002_1_0.04.png'):
        (hazy / name).write_bytes((reside / 'clear' / f'{name[:4]}.png').read_bytes())
    manifest = pack(reside, tmp_path / 'reside.h5', 'reside', workers=1)
    pairs = {r['name']: manifest.clean(r['clean'])['path'] for r in manifest.rows('rainy')}
    assert pairs == {'0001_0.8_0.2.png': 'clear/0001.png', '0001_0.9_0.1.png': 'clear/0001.png',
                     '0002_1_0.04.png': 'clear/0002.png'}
    card = fmt.PackedFile(tmp_path / 'reside.h5').card
    assert card['clean'] == 2 and 'first _' in card['pairing'] and card['identical_pairs'] == 3

    lol = write_pairs(tmp_path / 'lol', ['1.png', '2.png'])
    (lol / 'rainy').rename(lol / 'low')
    (lol / 'clean').rename(lol / 'high')
    manifest = pack(lol, tmp_path / 'lol.h5', 'lol', workers=1)
    assert [(r['path'], manifest.clean(r['clean'])['path']) for r in manifest.rows('rainy')] == [
        ('low/1.png', 'high/1.png'), ('low/2.png', 'high/2.png')]

    spa = write_pairs(tmp_path / 'spa', ['a.png', 'b.png', 'c.png'])
    listing = tmp_path / 'real_world.txt'
    listing.write_text('/rainy/a.png /clean/a.png\nrainy/b.png clean/a.png\n\n'
                       'rainy/c.png clean/c.png\n')
    manifest = pack(spa, tmp_path / 'spa.h5', 'list', workers=1, list_file=listing)
    assert [(r['name'], r['clean']) for r in manifest.rows('rainy')] == [
        ('rainy/a.png', 0), ('rainy/b.png', 0), ('rainy/c.png', 1)]
    listing.write_text('rainy/a.png clean/a.png\nrainy/zzz.png clean/a.png extra\n')
    with pytest.raises(ValueError, match='real_world.txt:2'):
        pack(spa, tmp_path / 'bad.h5', 'list', workers=1, list_file=listing)


@pytest.mark.parametrize('version', [2, 3])
def test_earlier_format_versions_are_still_read(version, tmp_path, capsys, monkeypatch):
    """``tests/data/format_vN.h5``, written by the packer of that version (2: raw storage, no
    shards; 3: the manifest as one JSON document, with a train/val split)."""
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    old = tmp_path / f'v{version}.h5'
    old.write_bytes((Path(__file__).parents[1] / 'data' / f'format_v{version}.h5').read_bytes())
    before = sha256(old)
    packed = fmt.PackedFile(old)
    assert packed.attrs['format_version'] == version and not packed.encoded
    assert packed.shards == []
    item = H5PairedDataset(str(old), split='train')[0]
    assert tuple(item['inputs'].shape) == (3, 12, 16)
    assert main(['verify', str(old)]) == 0 and main(['leaks', str(old)]) == 0
    assert main(['inspect', str(old)]) == 0
    assert f'"rainy": {packed.manifest.num_rainy}' in capsys.readouterr().out
    assert main(['card', str(old)]) == 0 and 'Per-image SHA-256' in capsys.readouterr().out
    if version == 3:  # the JSON manifest read into the same tables
        doc = json.loads(h5py.File(old, 'r')['manifest'][()])
        assert list(packed.manifest.rows('rainy')) == doc['rainy']
        assert list(packed.manifest.rows('clean')) == doc['clean']
        assert packed.manifest.split == doc['split'] and doc['split']['val']
        assert H5PairedDataset(str(old), split='val').indices == doc['split']['val']
    assert sha256(old) == before


@pytest.mark.slow
def test_scale_benchmark_runs_every_step_on_a_tiny_set(tmp_path, repo_root):
    """``data_tools bench`` end to end on 16 pairs (the documented runs use 1k-100k): the
    killed and resumed pack is bit-identical, the planted leaks are found, and the page cache
    really is cold (nothing resident, read by ``mincore``) or warm (everything) when loading."""
    rows_file = tmp_path / 'rows.json'
    proc = subprocess.run([sys.executable, '-m', 'data_tools', 'bench', '--pairs', '16',
                           '--size', '32', '--workers', '1', '--batches', '2', '--skip',
                           'encoded', 'shards', '--source-format', 'jpg', '--json',
                           str(rows_file)], capture_output=True, text=True, cwd=repo_root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {r['step']: r for r in json.loads(rows_file.read_text())}
    assert rows['pack --resume']['note'] == 'bit-identical'
    assert rows['pack killed half-way']['note'] == 'exit -9'
    assert rows['leaks raw.h5 vs test folder']['note'] == '6 leaking pairs found'  # 0, 3, ..15
    assert rows['pack raw']['rss_mib'] > 100 and rows['pack raw']['mib'] > 0
    for workers in (0, 2):
        cold, warm = (rows[f'load raw 32² crops, {workers} workers, {s}'] for s in ('cold', 'warm'))
        assert cold['note'].startswith('0.0% ') and warm['note'].startswith('100.0% ')
        assert cold['crops_per_s'] > 0 and warm['crops_per_s'] > 0
