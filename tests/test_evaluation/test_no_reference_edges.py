"""No-reference metrics on the images that used to crash them: one 96-px block (both sides
96–191 px), flat images, images under the minimum size; and a folder holding such images."""
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from danet.datasets.image_files import decode_rgb
from danet.evaluation import brisque_model, niqe_params
from danet.evaluation.brisque import brisque_score
from danet.evaluation.metric_table import UnscorableImage
from danet.evaluation.niqe import niqe_score


@pytest.fixture(scope='module')
def photo(shared_data):
    if not (niqe_params.PARAMS_PATH.is_file() and brisque_model.MODEL_PATH.is_file()):
        pytest.skip('NIQE/BRISQUE models not installed (make install)')
    return decode_rgb(shared_data / 'RealRain_SAPNet' / 'rainy' / '021.png', convert=True)[0]


@pytest.mark.parametrize('size', [(96, 96), (150, 191), (191, 120)])
def test_niqe_refuses_one_block_images_and_scores_two(photo, size):
    """One 96×96 block (both sides 96–191 px) has no feature covariance (BasicSR's ``np.cov`` is
    NaN and the SVD fails): refused saying so; two blocks score, and noise raises the score."""
    with pytest.raises(UnscorableImage, match='at least two 96×96 blocks'):
        niqe_score(np.ascontiguousarray(photo[:size[0], :size[1]]))
    crop = np.ascontiguousarray(photo[:size[0], :192])
    noisy = np.clip(crop + np.random.default_rng(0).normal(0, 25, crop.shape), 0, 255)
    score = niqe_score(crop)
    assert np.isfinite(score) and niqe_score(noisy.astype(np.uint8)) > score + 1


@pytest.mark.parametrize('metric', [niqe_score, brisque_score])
def test_flat_images_are_refused_with_the_reason(photo, metric):
    with pytest.raises(UnscorableImage, match='flat'):
        metric(np.full((200, 200, 3), 128, np.uint8))


def test_eval_folder_scores_what_it_can_and_records_the_rest(photo, tmp_path, repo_root):
    folder = tmp_path / 'photos'
    folder.mkdir()
    images = {'a_photo.png': photo, 'b_mid.png': photo[:150, :170],
              'c_flat.png': np.full((200, 200, 3), 90, np.uint8), 'd_tiny.png': photo[:60, :60],
              'e_blur.png': cv2.GaussianBlur(photo, (0, 0), 3)}
    for name, img in images.items():
        Image.fromarray(np.ascontiguousarray(img)).save(folder / name)
    out = subprocess.run([sys.executable, str(repo_root / 'tools' / 'eval_folder.py'),
                          str(folder), '--no-reference', '--testset', 'Real', '--method', 'in',
                          '--out-dir', str(tmp_path / 'out')], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    results = json.loads((tmp_path / 'out' / 'Real.json').read_text())
    assert [r['name'] for r in results['images']] == ['a_photo.png', 'e_blur.png']
    refused = {r['name']: r['reason'] for r in results['refused']}
    assert set(refused) == {'b_mid.png', 'c_flat.png', 'd_tiny.png'}
    assert 'flat' in refused['c_flat.png'] and '96×96' in refused['d_tiny.png']
    assert 'two 96×96 blocks' in refused['b_mid.png']
    assert 'c_flat.png' in out.stdout + out.stderr and 'd_tiny.png' in out.stdout + out.stderr
    assert results['summary']['niqe'] == pytest.approx(
        np.mean([niqe_score(np.ascontiguousarray(images[r['name']]))
                 for r in results['images']]))
