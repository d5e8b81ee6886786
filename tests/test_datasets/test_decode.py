"""The one image decoder: explicit rules for 16-bit, palette, RGBA, CMYK, gray and bilevel
images, and the same pixels wherever the platform reads an image (packing + dataset, derain,
folder evaluation, analysis figures)."""
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from analysis.figures import read_rgb
from danet.apis.derain_files import read_image
from danet.apis.folder_eval import _decode as eval_decode
from danet.datasets.h5_dataset import H5PairedDataset
from danet.datasets.image_files import decode_rgb
from danet.datasets.pack import pack

RAMP16 = np.linspace(0, 65535, 8 * 32).round().astype(np.uint16).reshape(8, 32)


def write_png16_rgb(path, pixels: np.ndarray) -> None:
    """A 48-bit RGB PNG (Pillow cannot write one): IHDR, one zlib IDAT, IEND."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack('>I', len(data)) + kind + data + struct.pack(
            '>I', zlib.crc32(kind + data) & 0xFFFFFFFF)
    h, w, _ = pixels.shape
    rows = b''.join(b'\x00' + row.astype('>u2').tobytes() for row in pixels)
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 16, 2,
                                                                        0, 0, 0))
                     + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))


def _cases(folder):
    """``{file name: expected uint8 RGB}`` for one image of each kind, written to ``folder``."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (8, 32, 3), dtype=np.uint8)
    gray = rgb[..., 0]
    expected = {}
    Image.fromarray(rgb).save(folder / 'rgb.png')
    expected['rgb.png'] = rgb
    Image.fromarray(RAMP16).save(folder / 'gray16.png')
    expected['gray16.png'] = np.repeat((RAMP16 >> 8).astype(np.uint8)[..., None], 3, axis=2)
    rgb16 = np.stack([RAMP16, RAMP16[::-1], np.full_like(RAMP16, 40000)], axis=2)
    write_png16_rgb(folder / 'rgb16.png', rgb16)
    expected['rgb16.png'] = (rgb16 >> 8).astype(np.uint8)
    Image.fromarray(gray).save(folder / 'gray.png')
    expected['gray.png'] = np.repeat(gray[..., None], 3, axis=2)
    Image.fromarray(gray > 127).save(folder / 'bilevel.png')
    expected['bilevel.png'] = np.repeat(np.where(gray > 127, 255, 0).astype(np.uint8)[..., None],
                                        3, axis=2)
    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 128, 255], [10, 200, 30]], np.uint8)
    index = (gray % 4).astype(np.uint8)
    pal = Image.fromarray(index, mode='P')
    pal.putpalette(palette.flatten().tolist())
    pal.info['transparency'] = 0
    pal.save(folder / 'palette.png', transparency=0)
    expected['palette.png'] = palette[index]
    alpha = rng.integers(0, 256, (8, 32, 1), dtype=np.uint8)
    Image.fromarray(np.concatenate([rgb, alpha], axis=2)).save(folder / 'rgba.png')
    expected['rgba.png'] = rgb
    Image.fromarray(np.concatenate([rgb[..., :1], alpha], axis=2), mode='LA').save(
        folder / 'gray_alpha.png')
    expected['gray_alpha.png'] = np.repeat(rgb[..., :1], 3, axis=2)   # alpha dropped, not blended
    exif = Image.Exif()
    exif[0x0112] = 6   # orientation "rotate 90": not applied, pixels as stored
    Image.fromarray(rgb).save(folder / 'rgb_exif.png', exif=exif)
    expected['rgb_exif.png'] = rgb
    cmyk = np.concatenate([rgb, np.full((8, 32, 1), 50, np.uint8)], axis=2)
    Image.fromarray(cmyk, mode='CMYK').save(folder / 'cmyk.tif')
    k = 255 - 50
    expected['cmyk.tif'] = ((255 - rgb.astype(np.int64)) * k / 255).round().astype(np.uint8)
    return expected


def test_each_kind_follows_its_rule(tmp_path):
    for name, want in _cases(tmp_path).items():
        got, note = decode_rgb(tmp_path / name, convert=True)
        assert got.dtype == np.uint8 and got.shape == (8, 32, 3), name
        tolerance = 1 if name == 'cmyk.tif' else 0   # PIL's integer CMYK arithmetic
        assert np.abs(got.astype(int) - want).max() <= tolerance, name
        assert (note is None) == (name in ('rgb.png', 'rgb_exif.png')), (name, note)


def test_sixteen_bit_ramp_is_not_saturated(tmp_path):
    """The bug: a reader converting via PIL's 'L' clipped a 16-bit ramp to 255 from value 255 on."""
    Image.fromarray(RAMP16).save(tmp_path / 'ramp.png')
    got = decode_rgb(tmp_path / 'ramp.png', convert=True)[0][..., 0].ravel()
    assert got[0] == 0 and got[-1] == 255 and np.all(np.diff(got.astype(int)) >= 0)
    assert abs(float(got.mean()) - 127.5) < 1   # linear: saturation would give ~254.5


def test_strict_mode_refuses_and_float_is_refused(tmp_path):
    Image.fromarray(RAMP16).save(tmp_path / 'ramp.png')
    with pytest.raises(ValueError, match='16-bit image, not 8-bit RGB'):
        decode_rgb(tmp_path / 'ramp.png')
    Image.fromarray(np.ones((4, 4), np.float32)).save(tmp_path / 'float.tif')
    with pytest.raises(ValueError, match='F image: no rule'):
        decode_rgb(tmp_path / 'float.tif', convert=True)


def test_every_reader_gets_the_same_pixels(tmp_path, repo_root):
    """Packing (read back through the dataset), derain, folder evaluation and the analysis
    figures all decode each kind identically (derain also applies the EXIF orientation)."""
    src = tmp_path / 'src'
    (src / 'rainy').mkdir(parents=True)
    (src / 'clean').mkdir()
    expected = _cases(src / 'rainy')
    for name in expected:
        Image.fromarray(np.zeros((8, 32, 3), np.uint8)).save(src / 'clean' / name,
                                                           format='PNG')
    pack(src, tmp_path / 'p.h5', convert=True, workers=1)
    dataset = H5PairedDataset(str(tmp_path / 'p.h5'))
    packed = {dataset.names[i]: dataset[i]['inputs'].permute(1, 2, 0).numpy()
              for i in range(len(dataset))}
    for name in expected:
        path = src / 'rainy' / name
        one = decode_rgb(path, convert=True)[0]
        for reader, pixels in (('pack+dataset', packed[name]), ('eval_folder', eval_decode(path)),
                               ('analysis', read_rgb(path))):
            assert np.array_equal(pixels, one), (name, reader)
        # derain shows the photo upright, as viewers do (only rgb_exif.png differs)
        upright = decode_rgb(path, convert=True, orient=True)[0]
        assert np.array_equal(read_image(path), upright), (name, 'derain')
        assert np.array_equal(upright, one) == (name != 'rgb_exif.png'), name
