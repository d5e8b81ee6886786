"""NIQE against BasicSR's own implementation (from the installed sdist), on real rainy photos."""
import json
import subprocess
import sys
import tarfile

import cv2
import numpy as np
import pytest

from danet.datasets.image_files import decode_rgb
from danet.evaluation import niqe_params
from danet.evaluation.brisque import brisque_score
from danet.evaluation.functional import rgb2y_basicsr
from danet.evaluation.niqe import imresize_half, niqe_score

# 001: colour; 007 and 013: grayscale files (scored as three equal channels, as cv2 reads them)
PHOTOS = ('001.png', '007.png', '013.png', '021.png')


@pytest.fixture(scope='module')
def model():
    if not niqe_params.PARAMS_PATH.is_file():
        pytest.skip(f'NIQE parameters not installed at {niqe_params.PARAMS_PATH} (make install)')
    return niqe_params.load_pristine_model()


@pytest.fixture(scope='module')
def basicsr(tmp_path_factory, model):
    """BasicSR 1.4.2's ``calculate_niqe`` and ``imresize``, imported from the sdist that
    ``make install`` keeps, with a stub registry instead of the package's heavy ``__init__``."""
    root = tmp_path_factory.mktemp('basicsr_ref')
    with tarfile.open(niqe_params.SDIST_PATH) as tar:
        for name in ('metrics/niqe.py', 'metrics/metric_util.py', 'metrics/niqe_pris_params.npz',
                     'utils/color_util.py', 'utils/matlab_functions.py'):
            out = root / 'basicsr' / name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(tar.extractfile(f'basicsr-1.4.2/basicsr/{name}').read())
    (root / 'basicsr/__init__.py').write_text('')
    (root / 'basicsr/metrics/__init__.py').write_text('')
    (root / 'basicsr/utils/__init__.py').write_text('from .color_util import bgr2ycbcr\n')
    (root / 'basicsr/utils/registry.py').write_text(
        'class _Registry:\n    def register(self):\n        return lambda f: f\n'
        'METRIC_REGISTRY = _Registry()\n')
    sys.path.insert(0, str(root))
    try:
        from basicsr.metrics.niqe import calculate_niqe
        from basicsr.utils.matlab_functions import imresize
    finally:
        sys.path.remove(str(root))
    return calculate_niqe, imresize


@pytest.mark.filterwarnings('ignore')
def test_matches_basicsr_on_real_photos(shared_data, basicsr, model):
    calculate_niqe, imresize = basicsr
    for name in PHOTOS:
        path = shared_data / 'RealRain_SAPNet' / 'rainy' / name
        ours = niqe_score(decode_rgb(path, convert=True)[0], model)
        assert ours == pytest.approx(calculate_niqe(cv2.imread(str(path)), 0), abs=1e-3), name
    y = rgb2y_basicsr(decode_rgb(path, convert=True)[0]).astype(np.float32) / 255
    np.testing.assert_array_equal(imresize_half(y[:288, :480]), imresize(y[:288, :480], 0.5))


def test_distortion_raises_niqe(shared_data, model):
    img = decode_rgb(shared_data / 'RealRain_SAPNet' / 'rainy' / '021.png', convert=True)[0]
    noisy = np.clip(img + np.random.default_rng(0).normal(0, 25, img.shape), 0, 255)
    blurred = cv2.GaussianBlur(img, (0, 0), 3)
    clean = niqe_score(img, model)
    assert niqe_score(noisy.astype(np.uint8), model) > clean + 1
    assert niqe_score(blurred, model) > clean + 1
    with pytest.raises(ValueError, match='at least 96×96'):
        niqe_score(img[:95], model)


def test_eval_folder_no_reference(shared_data, model, tmp_path, repo_root):
    photos = tmp_path / 'photos'
    photos.mkdir()
    for name in PHOTOS[:3]:
        (photos / name).write_bytes((shared_data / 'RealRain_SAPNet' / 'rainy' / name).read_bytes())
    cmd = [sys.executable, str(repo_root / 'tools' / 'eval_folder.py'), str(photos),
           '--no-reference', '--testset', 'RealRain', '--method', 'input', '--out-dir',
           str(tmp_path / 'out')]
    subprocess.run(cmd, check=True, capture_output=True)
    results = json.loads((tmp_path / 'out' / 'RealRain.json').read_text())
    assert [r['name'] for r in results['images']] == list(PHOTOS[:3])
    assert set(results['summary']) == {'niqe', 'brisque'}   # every no-reference metric
    first = decode_rgb(photos / PHOTOS[0], convert=True)[0]
    assert results['images'][0]['niqe'] == pytest.approx(niqe_score(first, model), abs=1e-9)
    assert results['images'][0]['brisque'] == pytest.approx(brisque_score(first), abs=1e-9)
    both = subprocess.run(cmd[:3] + [str(photos)] + cmd[3:], capture_output=True, text=True)
    assert both.returncode == 2 and 'without GT_DIR' in both.stderr
