"""Leak detection on real images: calibration, the ``leaks`` command, ``pack
--exclude-overlap-with``, dataset cards and reading the version 1 format."""
import io
import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from danet.datasets import fingerprint as fpm
from danet.datasets import h5format as fmt
from danet.datasets.h5_dataset import H5PairedDataset
from danet.datasets.image_files import decode_rgb
from danet.datasets.pack import pack
from data_tools.__main__ import main
from data_tools.calibrate_leaks import calibrate

V1_FILE = Path(__file__).resolve().parents[1] / 'data' / 'format_v1.h5'
GEOMETRY = ('crop 1-4 px', 'resize 0.5-1.5x', 'JPEG q30-90', 'brightness/contrast',
            'horizontal flip')


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Fingerprint caches of read-only folders go to this test's own cache directory."""
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(img).save(buffer, 'JPEG', quality=quality)
    return np.asarray(Image.open(buffer).convert('RGB'))


def _save_pairs(root: Path, images: dict) -> Path:
    """A ``pairs`` folder: each clean image, and as its rainy image the clean one brightened."""
    for sub in ('rainy', 'clean'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, img in images.items():
        Image.fromarray(img).save(root / 'clean' / name)
        Image.fromarray(np.clip(img.astype(int) + 30, 0, 255).astype(np.uint8)).save(
            root / 'rainy' / name)
    return root


def test_calibration_no_false_positive_no_miss_under_geometry_and_tone(shared_data):
    result = calibrate([shared_data / 'Rain100H'], seed=1, limit=16)
    at = next(r for r in result['rates'] if r['threshold'] == fpm.THRESHOLD)
    assert result['images'] == 16 and at['false_positive'] == 0
    assert all(at['false_negative'][case] == 0 for case in GEOMETRY), at['false_negative']
    assert at['false_negative']['Rain100H rainy vs its clean (real rain)'] > 0  # documented limit


@pytest.fixture
def two_sets(shared_data, tmp_path):
    """A "train" folder holding a cropped, flipped, recompressed test image (a.png), another
    image (b.png) and its byte-identical copy (c.png); a "test" folder with the original."""
    clean = {n: decode_rgb(shared_data / 'Rain100H' / 'clean' / f'{n:03d}.png')[0]
             for n in (16, 17, 20)}
    leaked = _jpeg(np.ascontiguousarray(clean[16][3:, 2:][:, ::-1]), 60)
    train = _save_pairs(tmp_path / 'train', {'a.png': leaked, 'b.png': clean[17],
                                             'c.png': clean[17]})
    test = _save_pairs(tmp_path / 'test', {'x.png': clean[16], 'y.png': clean[20]})
    return train, test


def test_leaks_finds_the_flipped_crop_and_the_duplicate(two_sets, tmp_path, capsys):
    train, test = two_sets
    report_path = tmp_path / 'report.json'
    assert main(['leaks', str(train), str(test), '--json', str(report_path)]) == 3
    out = capsys.readouterr().out
    assert 'clean/a.png' in out and 'clean/x.png' in out and 'flip' in out
    report = json.loads(report_path.read_text())
    assert [(r['a'], r['b']) for r in report['duplicates']] == [('clean/b.png', 'clean/c.png')]
    [leak] = report['leaks']
    assert (leak['a'], leak['b'], leak['flip']) == ('clean/a.png', 'clean/x.png', True)
    assert leak['similarity'] >= fpm.THRESHOLD and leak['scale'] == pytest.approx(1.0, abs=0.01)
    assert leak['offset'] == [0.0, -3.0]  # x.png flipped starts 3 rows above a.png's top
    [cache] = (tmp_path / 'cache' / 'danet' / 'fingerprints').glob('train-*.npz')
    assert len(np.load(cache)['digests']) == 2  # b.png and c.png share their bytes
    shutil.copy(test / 'clean' / 'y.png', train / 'clean' / 'b.png')  # b.png changes
    assert main(['leaks', str(train), str(test), '--json', str(report_path)]) == 3
    report = json.loads(report_path.read_text())  # re-fingerprinted: b.png now leaks y.png
    assert {(r['a'], r['b']) for r in report['leaks']} == {('clean/a.png', 'clean/x.png'),
                                                           ('clean/b.png', 'clean/y.png')}
    (train / 'clean' / 'c.png').unlink()
    (train / 'rainy' / 'c.png').unlink()
    assert main(['leaks', str(train)]) == 0  # one set without duplicates: clean
    assert main(['leaks', str(tmp_path / 'missing')]) == 2


def test_pack_excludes_overlap_and_records_it(two_sets, tmp_path):
    train, test = two_sets
    test_h5 = tmp_path / 'test.h5'
    pack(test, test_h5, workers=1)
    out = tmp_path / 'train.h5'
    assert main(['pack', str(train), str(out), '--workers', '1', '--exclude-overlap-with',
                 str(test_h5), '--source', 'Rain100H crops', '--license', 'CC0']) == 0
    packed = fmt.PackedFile(out)
    assert [r['name'] for r in packed.manifest.rows('rainy')] == ['b.png', 'c.png']
    [excluded] = packed.manifest.excluded
    assert excluded['clean'] == 'clean/a.png' and excluded['rainy'] == ['a.png']
    assert excluded['matches'][0]['set'] == 'test.h5'
    assert excluded['matches'][0]['image'] == 'clean/x.png' and excluded['matches'][0]['flip']
    card = packed.card
    assert card['excluded'] == 1 and card['paired'] == 2 and card['sizes'] == {'480x320': 2}
    assert [(d['a'], d['b']) for d in card['duplicates']['pairs']] == [('clean/b.png',
                                                                        'clean/c.png')]
    assert card['provenance']['license'] == 'CC0' and card['psnr_y'] < 30
    assert 'images' not in card and card['content_hash'] == packed.content_hash  # rows stay
    # in the manifest tables (memory flat in N); `card` lists them


def test_card_markdown_and_inspect(two_sets, tmp_path, capsys):
    train, _ = two_sets
    out = tmp_path / 'train.h5'
    pack(train, out, workers=1, provenance={'source': 'test crops', 'license': None})
    md = tmp_path / 'card.md'
    assert main(['card', str(out), '--format', 'md', '--out', str(md)]) == 0
    text = md.read_text()
    assert '| pairs | 3 |' in text and 'test crops' in text and 'not declared' in text
    assert 'rgb2ycbcr' in text and fmt.PackedFile(out).content_hash in text
    assert 'clean/b.png = clean/c.png' in text
    manifest = fmt.PackedFile(out).manifest
    for row in manifest.rows('rainy'):  # the per-image hashes, from the manifest tables
        clean = manifest.clean(row['clean'])['sha256']
        assert f'| {row["name"]} | `{row["sha256"]}` | `{clean}` |' in text
    capsys.readouterr()
    assert main(['card', str(out), '--format', 'json']) == 0
    assert len(json.loads(capsys.readouterr().out)['images']) == 3
    capsys.readouterr()
    assert main(['inspect', str(out)]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card['rainy'] == 3 and card['duplicates']['compared'] == 'clean'


def test_format_version_1_is_still_read(tmp_path):
    v1 = shutil.copy(V1_FILE, tmp_path / 'v1.h5')
    packed = fmt.PackedFile(v1)
    assert packed.attrs['format_version'] == 1 and (packed.lq_group, packed.gt_group) == (
        'rainy', 'clean')
    dataset = H5PairedDataset(str(v1), split='train')
    item = dataset[0]
    assert tuple(item['inputs'].shape) == (3, 12, 16) and item['data_samples'].gt_img is not None
    assert main(['verify', str(v1)]) == 0
    assert main(['inspect', str(v1)]) == 0
    assert fmt.PackedFile(tmp_path / 'v1.h5').card is None  # computed on demand, not stored
    packed.close()
    dataset.packed.close()  # a reader open in this process would block the cache write
    assert main(['leaks', str(v1)]) == 0
    with h5py.File(v1, 'r') as f:  # the input is not written
        assert 'fingerprints' not in f
    assert main(['leaks', str(v1), '--cache-in-place']) == 0
    with h5py.File(v1, 'r') as f:  # asked for: fingerprinted once, cached in the file
        assert f['fingerprints/gt'].shape == (2, fpm.GRID ** 2)


@pytest.mark.slow
def test_shared_data_findings_match_docs(shared_data, tmp_path):
    """The findings recorded in docs/datasets.md ("Findings on ../shared/data")."""
    report_path = tmp_path / 'shared.json'
    names = ('Train40', 'Rain100L', 'Rain100H', 'RealRain_SAPNet')
    assert main(['leaks', *(str(shared_data / n) for n in names), '--json',
                 str(report_path)]) == 3
    report = json.loads(report_path.read_text())
    pairs = {}
    for row in report['duplicates'] + report['leaks']:
        pairs.setdefault((row['set_a'], row['set_b']), set()).add((row['a'], row['b']))
    assert pairs[('Train40', 'Train40')] == {('clean/005.jpg', 'clean/011.jpg')}
    for test in ('Rain100L', 'Rain100H'):
        assert pairs[('Train40', test)] == {('clean/012.jpg', 'clean/093.png'),
                                            ('clean/013.jpg', 'clean/088.png')}
        assert len(pairs[(test, test)]) == 9
    assert len(pairs[('Rain100L', 'Rain100H')]) == 100 + 2 * 9  # each repeat matches both copies
    assert len(pairs[('RealRain_SAPNet', 'RealRain_SAPNet')]) == 49
    assert not any('RealRain_SAPNet' in key and key[0] != key[1] for key in pairs)
    assert report['notes'] == ['RealRain_SAPNet: no clean images, its rainy images were compared']
