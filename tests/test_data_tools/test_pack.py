"""Packing real and bad input: round trips, hashes, layouts, errors, atomic writes."""
import hashlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys

import h5py
import numpy as np
import pytest
from PIL import Image

from danet.datasets import h5format as fmt
from danet.datasets.image_files import decode_rgb
from danet.datasets.manifest import content_hash
from danet.datasets.pack import KILL_AT, pack, remove_stale_partials
from danet.utils.hashing import pixel_hash
from data_tools.__main__ import main


def assert_round_trip(h5_path, src):
    packed = fmt.PackedFile(h5_path)
    for i, entry in enumerate(packed.manifest.rows('rainy')):
        assert np.array_equal(packed.rainy(i)[()], decode_rgb(src / entry['path'])[0])
        clean = packed.manifest.clean(entry['clean'])
        assert np.array_equal(packed.clean(i)[()], decode_rgb(src / clean['path'])[0])
        assert entry['sha256'] == pixel_hash(decode_rgb(src / entry['path'])[0])
    packed.close()
    return packed


def test_rain100l_round_trips_pixel_exact(rain100l_h5, shared_data):
    packed = assert_round_trip(rain100l_h5, shared_data / 'Rain100L')
    assert packed.attrs['num_rainy'] == packed.attrs['num_clean'] == 100
    assert [r['name'] for r in packed.manifest.rows('rainy')][:2] == ['001.png', '002.png']
    # the streamed hash equals the JSON list of sorted rows that format versions 1-3 hashed
    rows = sorted((r['name'], r['sha256'], packed.manifest.clean(r['clean'])['sha256'])
                  for r in packed.manifest.rows('rainy'))
    assert packed.content_hash == content_hash(packed.manifest) == \
        hashlib.sha256(json.dumps(rows).encode()).hexdigest()
    assert packed.attrs['packer_version'] and packed.attrs['layout'] == 'pairs'


def test_random_crop_reads_only_its_chunks(rain100l_h5):
    with h5py.File(rain100l_h5, 'r') as f:
        dset = f['lq/000000']
        assert dset.chunks == (fmt.CHUNK, fmt.CHUNK, 3)
        assert dset.compression is None


@pytest.mark.slow
def test_train40_mixed_sizes_and_split_by_background(shared_data, tmp_path):
    src, out = shared_data / 'Train40', tmp_path / 'train40.h5'
    assert main(['pack', str(src), str(out), '--val-fraction', '0.25', '--split-seed', '3',
                 '--workers', '2']) == 0
    packed = assert_round_trip(out, src)
    shapes = {tuple(r['shape']) for r in packed.manifest.rows('rainy')}
    assert (2048, 3072) in shapes and len(shapes) > 5
    split, clean = packed.manifest.split, list(packed.manifest.rows('clean'))
    assert sorted(split['train'] + split['val']) == list(range(40))
    background = [clean[r['clean']]['sha256'] for r in packed.manifest.rows('rainy')]
    assert not {background[i] for i in split['train']} & {background[i] for i in split['val']}
    names = [r['name'] for r in packed.manifest.rows('rainy')]
    half = {n: ('val' if i in split['val'] else 'train') for i, n in enumerate(names)}
    assert half['005.jpg'] == half['011.jpg']  # byte-identical pair: one background
    assert 'danet-data pack' in packed.attrs['command']


def test_content_hash_ignores_compression_and_source(tmp_path, write_pairs):
    src = write_pairs(tmp_path / 'src', ['a.png', 'b.png'])
    pack(src, tmp_path / 'plain.h5', workers=1)
    umask = os.umask(0o022)
    os.umask(umask)                        # readable by others as a plain open() makes it
    assert stat.S_IMODE((tmp_path / 'plain.h5').stat().st_mode) == 0o666 & ~umask
    moved = shutil.copytree(src, tmp_path / 'elsewhere')
    pack(moved, tmp_path / 'gzip.h5', compression='gzip', workers=1)
    hashes = [fmt.PackedFile(tmp_path / n).content_hash for n in ('plain.h5', 'gzip.h5')]
    assert hashes[0] == hashes[1]
    Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(src / 'clean' / 'b.png')
    pack(src, tmp_path / 'changed.h5', workers=1)
    assert fmt.PackedFile(tmp_path / 'changed.h5').content_hash != hashes[0]


def test_layouts_pair_by_name(tmp_path):
    rng = np.random.default_rng(1)
    img = {k: rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for k in range(6)}
    mpr = tmp_path / 'mpr'
    for sub in ('input', 'target'):
        (mpr / sub).mkdir(parents=True)
    # sorted order of input and target differ in pairing: z.png pairs z.png only
    Image.fromarray(img[0]).save(mpr / 'input' / 'z.png')
    Image.fromarray(img[1]).save(mpr / 'target' / 'z.png')
    Image.fromarray(img[2]).save(mpr / 'input' / 'a.png')
    Image.fromarray(img[3]).save(mpr / 'target' / 'a.png')
    pack(mpr, tmp_path / 'mpr.h5', 'mprnet', workers=1)
    packed = fmt.PackedFile(tmp_path / 'mpr.h5')
    z = [r['name'] for r in packed.manifest.rows('rainy')].index('z.png')
    assert np.array_equal(packed.clean(z)[()], img[1])

    pre = tmp_path / 'prenet'
    pre.mkdir()
    for k, (r, c) in {2: (0, 1), 10: (2, 3)}.items():
        Image.fromarray(img[r]).save(pre / f'rain-{k}.png')
        Image.fromarray(img[c]).save(pre / f'norain-{k}.png')
    pack(pre, tmp_path / 'pre.h5', 'prenet', workers=1)
    packed = fmt.PackedFile(tmp_path / 'pre.h5')
    ten = [r['name'] for r in packed.manifest.rows('rainy')].index('rain-10.png')
    assert np.array_equal(packed.clean(ten)[()], img[3])

    r14 = tmp_path / 'r1400'
    for sub in ('rainy_image', 'ground_truth'):
        (r14 / sub).mkdir(parents=True)
    for k in range(3):
        Image.fromarray(img[k]).save(r14 / 'rainy_image' / f'7_{k + 1}.png')
    Image.fromarray(img[4]).save(r14 / 'rainy_image' / '9_1.png')
    Image.fromarray(img[5]).save(r14 / 'ground_truth' / '7.png')
    Image.fromarray(img[3]).save(r14 / 'ground_truth' / '9.png')
    manifest = pack(r14, tmp_path / 'r14.h5', 'rain1400', workers=1)
    assert manifest.num_rainy == 4 and manifest.num_clean == 2
    packed = fmt.PackedFile(tmp_path / 'r14.h5')
    for i, entry in enumerate(manifest.rows('rainy')):
        expected = img[5] if entry['name'].startswith('7_') else img[3]
        assert np.array_equal(packed.clean(i)[()], expected)


def make_bad_folder(root, write_pairs):
    """One good pair plus one file of every kind of bad input; returns the bad file names."""
    write_pairs(root, ['good.png', 'small.png', 'corrupt.png', 'trunc.png', 'gray.png',
                       'deep.png'])
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(root / 'clean' / 'small.png')
    (root / 'rainy' / 'corrupt.png').write_bytes(b'not an image at all')
    data = (root / 'rainy' / 'trunc.png').read_bytes()
    (root / 'rainy' / 'trunc.png').write_bytes(data[:len(data) // 2])
    Image.fromarray(np.full((24, 32), 7, np.uint8)).save(root / 'rainy' / 'gray.png')
    Image.fromarray(np.full((24, 32), 60000, np.uint16)).save(root / 'rainy' / 'deep.png')
    (root / 'rainy' / 'orphan.png').write_bytes((root / 'rainy' / 'good.png').read_bytes())
    (root / 'rainy' / 'notes.txt').write_text('hello')
    (root / 'clean' / 'notes.txt').write_text('hello')
    (root / 'rainy' / '.DS_Store').write_bytes(b'\0')
    return ['small.png', 'corrupt.png', 'trunc.png', 'gray.png', 'deep.png', 'orphan.png',
            'notes.txt']


def test_bad_input_lists_every_file_and_writes_nothing(tmp_path, capsys, write_pairs):
    bad = make_bad_folder(tmp_path / 'src', write_pairs)
    out = tmp_path / 'out.h5'
    assert main(['pack', str(tmp_path / 'src'), str(out), '--workers', '1']) == 2
    err = capsys.readouterr().err
    for name in bad:
        assert f'rainy/{name}' in err, name
    assert 'differs from clean' in err and 'not 8-bit RGB' in err and '.DS_Store' not in err
    assert not out.exists() and list(tmp_path.glob('.*partial')) == []


def test_skip_bad_packs_the_rest_and_records_skips(tmp_path, write_pairs):
    bad = make_bad_folder(tmp_path / 'src', write_pairs)
    manifest = pack(tmp_path / 'src', tmp_path / 'out.h5', skip_bad=True, workers=1)
    assert [r['name'] for r in manifest.rows('rainy')] == ['good.png']
    skipped = ' '.join(path for path, _ in manifest.skipped)
    assert all(name in skipped for name in bad)
    stored = json.loads(h5py.File(tmp_path / 'out.h5', 'r')['manifest/extra'][()])
    assert stored['skipped'] == manifest.skipped


def test_convert_records_grayscale_and_16bit(tmp_path, write_pairs):
    src = write_pairs(tmp_path / 'src', ['gray.png', 'deep.png'])
    Image.fromarray(np.full((24, 32), 7, np.uint8)).save(src / 'rainy' / 'gray.png')
    Image.fromarray(np.full((24, 32), 0x1234, np.uint16)).save(src / 'rainy' / 'deep.png')
    manifest = pack(src, tmp_path / 'out.h5', convert=True, workers=1)
    converted = {r['name']: r['converted'] for r in manifest.rows('rainy')}
    assert converted['gray.png'] == 'L->RGB' and '16-bit' in converted['deep.png']
    packed = fmt.PackedFile(tmp_path / 'out.h5')
    deep = [r['name'] for r in manifest.rows('rainy')].index('deep.png')
    assert (packed.rainy(deep)[()] == 0x12).all()


def test_empty_folder_and_existing_destination(tmp_path, capsys, write_pairs):
    (tmp_path / 'empty' / 'rainy').mkdir(parents=True)
    assert main(['pack', str(tmp_path / 'empty'), str(tmp_path / 'e.h5')]) == 2
    assert 'empty folder' in capsys.readouterr().err
    src = write_pairs(tmp_path / 'src', ['a.png'])
    out = tmp_path / 'out.h5'
    out.write_bytes(b'precious')
    assert main(['pack', str(src), str(out), '--workers', '1']) == 2
    assert out.read_bytes() == b'precious' and '--overwrite' in capsys.readouterr().err
    assert main(['pack', str(src), str(out), '--workers', '1', '--overwrite']) == 0
    assert fmt.PackedFile(out).attrs['num_rainy'] == 1


def test_rainy_only_real_photos(shared_data, tmp_path, capsys):
    src, out = shared_data / 'RealRain_SAPNet', tmp_path / 'real.h5'
    assert main(['pack', str(src), str(out), '--workers', '2']) == 2
    assert capsys.readouterr().err.count('not 8-bit RGB') == 7
    manifest = pack(src, out, convert=True, workers=2)
    assert manifest.num_rainy == 147 and manifest.num_clean == 0
    assert sum('converted' in r for r in manifest.rows('rainy')) == 7
    assert fmt.PackedFile(out).clean(0) is None


def test_killed_packer_leaves_no_destination(shared_data, tmp_path, write_pairs):
    out = tmp_path / 'killed.h5'
    proc = subprocess.run([sys.executable, '-m', 'data_tools', 'pack',
                           str(shared_data / 'Train40'), str(out), '--workers', '1',
                           '--shard-size', '4'],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env={**os.environ, KILL_AT: 'segment1'},  # killed at a known point
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    # the next pack to that destination clears the dead packer's leftover, then writes
    leftovers = list(tmp_path.glob('.killed.h5.*.partial'))
    [shard] = tmp_path.glob('killed.h5.*-shard00000.h5')   # its first shard, in no index
    assert leftovers
    pack(write_pairs(tmp_path / 'small', ['a.png']), out, workers=1)
    assert out.is_file() and not any(p.exists() for p in leftovers) and not shard.exists()


def test_stale_partial_cleanup_checks_host_and_pid(tmp_path):
    """On a shared filesystem a partial of another host's packer is never deleted, even when its
    pid is not alive here; this host's dead packers' partials are."""
    out = tmp_path / 'shared.h5'
    dead = 2 ** 22 + 12345   # above the default pid_max: never a live process
    host = socket.gethostname()
    mine_dead = tmp_path / f'.shared.h5.{host}.{dead}.partial'
    mine_live = tmp_path / f'.shared.h5.{host}.{os.getpid()}.partial'
    other_host = tmp_path / f'.shared.h5.node-7.cluster.local.{dead}.partial'
    for path in (mine_dead, mine_live, other_host):
        path.write_bytes(b'partial')
    remove_stale_partials(out)
    assert not mine_dead.exists() and mine_live.exists() and other_host.exists()


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 2 MiB tmpfs mounted by the test (skips where mounting is not allowed)."""
    mount = tmp_path / 'tiny_disk'
    mount.mkdir()
    proc = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', str(mount)],
                          capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f'cannot mount a tmpfs here ({(proc.stderr or proc.stdout).strip()}); '
                    'the full-disk test needs root and mount rights')
    yield mount
    subprocess.run(['umount', str(mount)], check=True)


def test_full_disk_gives_one_line_exit_2_and_leaves_nothing(small_tmpfs, tmp_path, write_pairs,
                                                            repo_root):
    src = write_pairs(tmp_path / 'src', [f'{i}.png' for i in range(8)], size=(256, 256))
    proc = subprocess.run([sys.executable, '-m', 'data_tools', 'pack', str(src),
                           str(small_tmpfs / 'out.h5'), '--workers', '1'],
                          capture_output=True, text=True, cwd=repo_root)
    assert proc.returncode == 2, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if 'error' in line.lower()]
    assert len(errors) == 1 and errors[0].startswith('error: cannot write') and \
        'no space left' in errors[0] and 'Traceback' not in proc.stderr
    assert list(small_tmpfs.iterdir()) == []
