"""``leaks`` treats its inputs as read-only, keys its cache by content, refuses what it cannot
answer (a bad threshold, an empty folder, a set given twice, corrupt files by name); the card
of a set with an identical pair (issue 25.4-25.6)."""
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from danet.datasets.card import card_markdown, dataset_card
from danet.datasets.pack import pack
from data_tools.__main__ import main

V1_FILE = Path(__file__).resolve().parents[1] / 'data' / 'format_v1.h5'


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))


def _tree(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob('*')) if p.is_file()}


def test_inputs_are_never_written(tmp_path, write_pairs):
    data = tmp_path / 'data'
    write_pairs(data / 'train', ['a.png', 'b.png'], size=(40, 40))
    shutil.copy(V1_FILE, data / 'v1.h5')  # packed without fingerprints
    before = _tree(data)
    assert main(['leaks', str(data / 'train'), str(data / 'v1.h5'), '--workers', '1']) in (0, 3)
    assert _tree(data) == before  # same files, same sha256: nothing written beside them


def test_cache_is_keyed_by_content_not_size_and_mtime(tmp_path, write_pairs):
    train = write_pairs(tmp_path / 'train', ['a.bmp'], size=(48, 48), seed=1)  # BMP: one size
    test = write_pairs(tmp_path / 'test', ['x.bmp'], size=(48, 48), seed=2)
    assert main(['leaks', str(train), str(test), '--workers', '1']) == 0
    target = train / 'clean' / 'a.bmp'
    stat = target.stat()
    original = target.read_bytes()
    target.write_bytes((test / 'clean' / 'x.bmp').read_bytes())  # now the test image
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as cp -p / rsync -t leave it
    assert target.stat().st_size == stat.st_size
    assert main(['leaks', str(train), str(test), '--workers', '1']) == 3  # the real leak
    target.write_bytes(original)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert main(['leaks', str(train), str(test), '--workers', '1']) == 0  # no stale leak


@pytest.mark.parametrize('threshold', ['nan', '1.5', '0', '-0.2'])
def test_threshold_outside_0_1_is_refused(tmp_path, write_pairs, threshold, capsys):
    train = write_pairs(tmp_path / 'train', ['a.png'])
    assert main(['leaks', str(train), '--threshold', threshold]) == 2
    assert f'--threshold {float(threshold)}' in capsys.readouterr().err


def test_empty_folder_same_folder_twice_and_corrupt_files(tmp_path, write_pairs, capsys):
    empty = tmp_path / 'empty'
    (empty / 'clean').mkdir(parents=True)
    (empty / 'rainy').mkdir()
    assert main(['leaks', str(empty)]) == 2
    assert 'empty folder' in capsys.readouterr().err
    train = write_pairs(tmp_path / 'train', ['a.png', 'b.png'])
    assert main(['leaks', str(train), str(tmp_path / '.' / 'train')]) == 2
    assert 'given twice' in capsys.readouterr().err
    (train / 'clean' / 'b.png').write_bytes(b'not a png at all')
    assert main(['leaks', str(train), '--workers', '1']) == 2
    err = capsys.readouterr().err
    assert str(train / 'clean' / 'b.png') in err and 'BytesIO' not in err


def test_card_of_a_set_with_an_identical_pair(tmp_path, write_pairs):
    src = write_pairs(tmp_path / 'src', ['a.png', 'b.png'], size=(32, 32))
    shutil.copy(src / 'clean' / 'a.png', src / 'rainy' / 'a.png')  # no rain at all
    pack(src, tmp_path / 'out.h5', workers=1)
    card = dataset_card(tmp_path / 'out.h5')
    assert card['identical_pairs'] == 1 and np.isfinite(card['psnr_y'])
    json.dumps(card, allow_nan=False)  # no inf in the JSON
    text = card_markdown(card, [])
    assert '1 identical pair(s)' in text and 'inf dB' not in text
