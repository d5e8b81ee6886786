"""Raw and encoded storage give the same pixels for every image kind the packer accepts.

The rule (``decode_rgb``): pixels are taken as stored, EXIF orientation is never applied when
packing, hashing, storing or loading; the encoded PNG bytes decode to exactly the hashed pixels.
"""
import numpy as np
import pytest
from PIL import Image

from danet.datasets import h5format as fmt
from danet.datasets.image_files import decode_rgb
from danet.datasets.pack import pack
from data_tools.verify import verify

ORIENTATION = 0x0112
H, W = 12, 20


def _rgb(seed):
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)


def _exif(orientation):
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return exif


KINDS = {
    **{f'exif{o}.png': (lambda p, o=o: Image.fromarray(_rgb(o)).save(p, exif=_exif(o)))
       for o in range(1, 9)},
    'exif6.jpg': lambda p: Image.fromarray(_rgb(9)).save(p, exif=_exif(6), quality=95),
    'exif6.webp': lambda p: Image.fromarray(_rgb(10)).save(p, exif=_exif(6), lossless=True),
    'sixteen.png': lambda p: Image.fromarray(
        np.random.default_rng(11).integers(0, 65536, (H, W), dtype=np.uint16)).save(p),
    'gray.png': lambda p: Image.fromarray(_rgb(12)[..., 0]).save(p),
    'palette.png': lambda p: Image.fromarray(_rgb(13)).quantize(16).save(p),
    'rgba.png': lambda p: Image.fromarray(np.dstack([_rgb(14), _rgb(15)[..., :1]])).save(p),
    'cmyk.jpg': lambda p: Image.fromarray(_rgb(16)).convert('CMYK').save(p, quality=95),
    'plain.jpg': lambda p: Image.fromarray(_rgb(17)).save(p, quality=90),
    'plain.webp': lambda p: Image.fromarray(_rgb(18)).save(p, quality=80),
}


@pytest.fixture(scope='module')
def both_storages(tmp_path_factory):
    root = tmp_path_factory.mktemp('kinds')
    src = root / 'src'
    for sub in ('rainy', 'clean'):
        (src / sub).mkdir(parents=True)
        for name, save in KINDS.items():
            save(src / sub / name)
    return src, {storage: pack(src, root / f'{storage}.h5', convert=True, storage=storage,
                               workers=1)
                 and fmt.PackedFile(root / f'{storage}.h5') for storage in ('raw', 'encoded')}


@pytest.mark.parametrize('name', sorted(KINDS))
def test_raw_and_encoded_storage_give_the_same_pixels(both_storages, name):
    src, packed = both_storages
    raw, encoded = packed['raw'], packed['encoded']
    names = list(raw.manifest.column('rainy', 'name'))
    i = names.index(f'rainy/{name}') if f'rainy/{name}' in names else names.index(name)
    stored = decode_rgb(src / 'rainy' / name, convert=True)[0]   # as stored, not oriented
    assert np.array_equal(np.asarray(raw.rainy(i)[()]), stored)
    assert np.array_equal(encoded.rainy(i), stored)
    assert np.array_equal(encoded.clean(i), np.asarray(raw.clean(i)[()]))
    assert raw.content_hash == encoded.content_hash
    for path in (raw.path, encoded.path):
        assert [label for label, _ in verify(path) if f'rainy/{name}' in label] == []
