"""BRISQUE against independent implementations, on real rainy photos: the regressor against
LIBSVM itself (the model file read by LIBSVM's own loader), the features against the ``brisque``
package; plus what the score must do (distortion raises it). ``eval_folder --no-reference``
storing it: tests/test_evaluation/test_niqe.py."""
import tarfile

import numpy as np
import pytest

from danet.datasets.image_files import decode_rgb
from danet.evaluation import brisque_model
from danet.evaluation.brisque import RGB2GRAY, brisque_features, brisque_score, svr_predict

PHOTOS = ('001.png', '007.png', '021.png')   # 007: a grayscale file


@pytest.fixture(scope='module')
def model():
    if not brisque_model.MODEL_PATH.is_file():
        pytest.skip(f'BRISQUE model not installed at {brisque_model.MODEL_PATH} (make install)')
    return brisque_model.load_model()


@pytest.fixture(scope='module')
def photos(shared_data):
    folder = shared_data / 'RealRain_SAPNet' / 'rainy'
    return {name: decode_rgb(folder / name, convert=True)[0] for name in PHOTOS}


def _grey(img):
    return np.round(img.astype(np.float64) @ RGB2GRAY)


def test_regressor_equals_libsvm_on_the_same_features(model, photos, tmp_path):
    from libsvm import svmutil
    with tarfile.open(brisque_model.SHARE / brisque_model.SDIST_NAME) as tar:
        (tmp_path / 'svm.txt').write_bytes(
            tar.extractfile(brisque_model.MEMBERS['svm'][0]).read())
    reference = svmutil.svm_load_model(str(tmp_path / 'svm.txt'))
    rng = np.random.default_rng(0)
    low, high = model['feature_min'], model['feature_max']
    vectors = [brisque_features(_grey(img)) for img in photos.values()]
    vectors += [low + (high - low) * rng.random(36) for _ in range(5)]
    for features in vectors:
        scaled = list(-1 + 2 * (features - low) / (high - low))
        nodes, _ = svmutil.gen_svm_nodearray(scaled, isKernel=False)
        assert svr_predict(features, model) == pytest.approx(
            svmutil.libsvm.svm_predict(reference, nodes), abs=1e-6)


def test_full_scale_features_agree_with_the_brisque_package(photos):
    """The package crops the neighbour products where brisquescore.m shifts circularly and solves
    for the shapes instead of a 0.001 grid: shapes agree to 0.02, variances to 3%."""
    from brisque import BRISQUE
    theirs_fn = BRISQUE().calculate_brisque_features
    for name, img in photos.items():
        grey = _grey(img)
        ours = brisque_features(grey)[:18]
        theirs = np.array([np.asarray(v, dtype=float).item()
                           for v in theirs_fn(grey / 255, 7, 7 / 6)])
        shapes = [0, 2, 6, 10, 14]
        assert np.abs(ours[shapes] - theirs[shapes]).max() < 0.02, name
        others = [i for i in range(18) if i not in shapes and i not in (3, 7, 11, 15)]
        np.testing.assert_allclose(ours[others], theirs[others], rtol=0.03, err_msg=name)
        means = [3, 7, 11, 15]    # signed, near zero: absolute
        assert np.abs(ours[means] - theirs[means]).max() < 0.003, name


def test_distortion_raises_the_score(model, photos):
    img = photos['001.png']
    noisy = np.clip(img + np.random.default_rng(0).normal(0, 25, img.shape), 0, 255)
    clean, worse = brisque_score(img, model), brisque_score(noisy.astype(np.uint8), model)
    assert 0 < clean < 60 and worse > clean + 10
    with pytest.raises(ValueError, match='16×16'):
        brisque_score(img[:8, :8], model)

