"""verify, inspect, list, synth and photos through the command line."""
import shutil

import h5py
import numpy as np

from danet.datasets import h5format as fmt
from danet.datasets.card import dataset_card
from danet.datasets.image_files import decode_rgb
from danet.datasets.pack import pack
from danet.evaluation.functional import calculate_psnr
from data_tools.__main__ import main


def test_verify_passes_then_catches_a_flipped_byte(rain100l_h5, tmp_path, capsys):
    assert main(['verify', str(rain100l_h5)]) == 0
    damaged = shutil.copy(rain100l_h5, tmp_path / 'damaged.h5')
    with h5py.File(damaged, 'r') as f:
        offset = f['lq/000042'].id.get_chunk_info(3).byte_offset + 100
    with open(damaged, 'r+b') as raw:
        raw.seek(offset)
        byte = raw.read(1)
        raw.seek(offset)
        raw.write(bytes([byte[0] ^ 0xFF]))
    capsys.readouterr()
    assert main(['verify', str(damaged)]) == 1
    out = capsys.readouterr().out
    assert 'lq/000042 (rainy/043.png)' in out and out.count('MISMATCH') == 1


def test_inspect_reports_counts_sizes_and_metrics(tmp_path, write_pairs):
    src = write_pairs(tmp_path / 'src', ['a.png', 'b.png'], size=(24, 32))
    write_pairs(tmp_path / 'src', ['c.png'], size=(32, 24), seed=1)
    pack(src, tmp_path / 'x.h5', workers=1)
    info = dataset_card(tmp_path / 'x.h5')
    assert info['rainy'] == info['paired'] == 3 and info['sizes'] == {'32x24': 2, '24x32': 1}
    psnr = [calculate_psnr(decode_rgb(src / 'rainy' / n)[0], decode_rgb(src / 'clean' / n)[0])
            for n in ('a.png', 'b.png', 'c.png')]
    assert np.isclose(info['psnr_y'], np.mean(psnr))
    assert info['content_hash'] == fmt.PackedFile(tmp_path / 'x.h5').content_hash


def test_list_finds_packed_files(tmp_path, capsys, write_pairs):
    src = write_pairs(tmp_path / 'src', ['a.png'])
    pack(src, tmp_path / 'sets' / 'one.h5', workers=1)
    pack(src, tmp_path / 'sets' / 'deep' / 'two.h5', layout='pairs', workers=1)
    (tmp_path / 'sets' / 'junk.h5').write_bytes(b'junk')
    assert main(['list', str(tmp_path / 'sets')]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    digest = fmt.PackedFile(tmp_path / 'sets' / 'one.h5').content_hash[:16]
    assert sum(digest in line and 'rainy=1' in line for line in lines) == 2
    assert any('junk.h5' in line and 'ERROR' in line for line in lines)


def test_synth_is_deterministic_and_packable(tmp_path):
    photos = tmp_path / 'photos'
    assert main(['photos', str(photos), '--max-size', '96']) == 0
    images = sorted(photos.glob('*.png'))
    assert len(images) >= 6 and all(max(decode_rgb(p)[0].shape) <= 96 for p in images)
    for run, seed in (('a', '0'), ('b', '0'), ('c', '1')):
        assert main(['synth', str(photos), str(tmp_path / run), '--seed', seed]) == 0
    name = images[0].name
    a, b, c = (decode_rgb(tmp_path / run / 'rainy' / name)[0] for run in 'abc')
    clean = decode_rgb(tmp_path / 'a' / 'clean' / name)[0]
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(clean, decode_rgb(images[0])[0])
    assert a.astype(int).mean() > clean.astype(int).mean()  # streaks brighten the scene
    assert main(['synth', str(photos), str(tmp_path / 'a'), '--seed', '0']) == 2  # not empty
    manifest = pack(tmp_path / 'a', tmp_path / 'synth.h5', workers=1)
    assert manifest.num_rainy == len(images)
