"""EXIF orientation (applied where the user views the result: derain, synth), animated images
and corrupt files named by path."""
import json

import numpy as np
import pytest
from PIL import Image, ImageOps

from danet.datasets.image_files import decode_rgb
from data_tools.synth import synthesise

ORIENTATION = 0x0112


def save_oriented(path, img: np.ndarray, orientation: int):
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    Image.fromarray(img).save(path, exif=exif)


@pytest.mark.parametrize('orientation', range(1, 9))
def test_orientation_is_applied_as_viewers_do_only_when_asked(tmp_path, orientation):
    img = np.random.default_rng(orientation).integers(0, 255, (5, 8, 3), dtype=np.uint8)
    path = tmp_path / 'o.png'
    save_oriented(path, img, orientation)
    upright, note = decode_rgb(path, convert=True, orient=True)
    with Image.open(path) as viewer:
        np.testing.assert_array_equal(upright, np.asarray(ImageOps.exif_transpose(viewer)))
    assert (note is None) == (orientation == 1)
    if orientation != 1:
        assert f'EXIF orientation {orientation} applied' in note
    np.testing.assert_array_equal(decode_rgb(path, convert=True)[0], img)   # stored pixels


def test_animated_images_are_refused_and_one_frame_gifs_read(tmp_path):
    frames = [Image.new('RGB', (6, 4), c) for c in ('red', 'blue')]
    frames[0].save(tmp_path / 'anim.gif', save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / 'still.gif')
    with pytest.raises(ValueError, match=r'animated or multi-frame image \(2 frames\)'):
        decode_rgb(tmp_path / 'anim.gif', convert=True)
    assert decode_rgb(tmp_path / 'still.gif', convert=True)[0].shape == (4, 6, 3)


def test_synth_names_a_corrupt_file_and_records_orientation(tmp_path):
    src = tmp_path / 'clean'
    src.mkdir()
    photo = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    save_oriented(src / 'portrait.png', photo, 6)
    (src / 'broken.png').write_bytes(b'not an image')
    with pytest.raises(ValueError) as err:
        synthesise(src, tmp_path / 'out', seed=0)
    assert str(src / 'broken.png') in str(err.value) and 'BytesIO' not in str(err.value)
    assert not (tmp_path / 'out').exists()
    (src / 'broken.png').unlink()
    synthesise(src, tmp_path / 'out', seed=0)
    with Image.open(tmp_path / 'out' / 'clean' / 'portrait.png') as clean:
        assert clean.size == (20, 30)                         # upright: 6 turns it a quarter
    record = json.loads((tmp_path / 'out' / 'synthesis.json').read_text())
    assert record['exif_orientation'] == {'portrait.png': 6}
