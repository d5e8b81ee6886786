"""PSNR/SSIM/Y/quantise against independent computations on real Rain100L pairs."""
import numpy as np
import pytest
import torch
from PIL import Image
from scipy.signal import convolve2d
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from skimage.util import img_as_ubyte

from danet.evaluation.functional import calculate_psnr, calculate_ssim, quantize, rgb2y


@pytest.fixture(scope='module')
def pair(shared_data):
    load = lambda kind: np.asarray(Image.open(shared_data / 'Rain100L' / kind / '007.png'))  # noqa: E731
    return load('rainy'), load('clean')


def matlab_ssim(a, b):
    """Wang's ssim_index written directly: 2-D Gaussian window, convolve2d 'valid'."""
    x = np.arange(11) - 5
    g = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * 1.5 ** 2))
    g /= g.sum()
    f = lambda img: convolve2d(img, g, mode='valid')  # noqa: E731
    a, b = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu1, mu2 = f(a), f(b)
    s1, s2, s12 = f(a * a) - mu1 ** 2, f(b * b) - mu2 ** 2, f(a * b) - mu1 * mu2
    ssim_map = (2 * mu1 * mu2 + c1) * (2 * s12 + c2) / ((mu1 ** 2 + mu2 ** 2 + c1) * (s1 + s2 + c2))
    return np.mean(ssim_map)


def test_rgb2y_known_values():
    rgb = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255],
                     [100, 150, 200]]], dtype=np.uint8)
    # 16 + 65.481 = 81.481 -> 81; 16 + 128.553 = 144.553 -> 145; 16 + 24.966 = 40.966 -> 41;
    # 16 + (6548.1 + 19282.95 + 4993.2) / 255 = 136.879... -> 137
    assert rgb2y(rgb).tolist() == [[16, 235, 81, 145, 41, 137]]
    assert rgb2y(rgb).dtype == np.uint8


def test_rgb2y_rounds_like_matlab_not_truncates():
    values = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    exact = 16 + values.astype(np.float64) @ np.array([65.481, 128.553, 24.966]) / 255
    assert np.abs(rgb2y(values) - exact).max() <= 0.5


def test_psnr_matches_skimage_on_y_and_rgb(pair):
    rainy, clean = pair
    assert calculate_psnr(rainy, clean, 'rgb') == pytest.approx(
        peak_signal_noise_ratio(clean, rainy, data_range=255), abs=1e-9)
    y_rainy, y_clean = rgb2y(rainy), rgb2y(clean)
    assert calculate_psnr(rainy, clean) == pytest.approx(
        peak_signal_noise_ratio(y_clean, y_rainy, data_range=255), abs=1e-9)
    assert calculate_psnr(rainy, clean) != pytest.approx(calculate_psnr(rainy, clean, 'rgb'))


def test_ssim_matches_wang_reference_and_skimage(pair):
    rainy, clean = pair
    y_rainy, y_clean = rgb2y(rainy), rgb2y(clean)
    assert calculate_ssim(rainy, clean) == pytest.approx(matlab_ssim(y_rainy, y_clean), abs=1e-10)
    # skimage filters the whole image, then averages the map without a 5-pixel border: with a
    # Gaussian of radius 5 this is the same 'valid' map.
    sk = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    assert calculate_ssim(rainy, clean) == pytest.approx(
        structural_similarity(y_rainy, y_clean, **sk), abs=1e-6)
    assert calculate_ssim(rainy, clean, 'rgb') == pytest.approx(
        structural_similarity(rainy, clean, channel_axis=2, **sk), abs=1e-6)


def test_identical_images_and_grayscale(pair):
    rainy, clean = pair
    assert calculate_psnr(clean, clean) == float('inf')
    assert calculate_ssim(clean, clean, 'rgb') == pytest.approx(1.0)
    gray_a, gray_b = rainy[..., 0], clean[..., 0]
    assert calculate_ssim(gray_a, gray_b) == pytest.approx(matlab_ssim(gray_a, gray_b), abs=1e-10)


def test_crop_border_crops_each_side(pair):
    rainy, clean = pair
    c = 4
    assert calculate_psnr(rainy, clean, crop_border=c) == pytest.approx(
        calculate_psnr(rainy[c:-c, c:-c], clean[c:-c, c:-c]))
    assert calculate_ssim(rainy, clean, crop_border=c) == pytest.approx(
        calculate_ssim(rainy[c:-c, c:-c], clean[c:-c, c:-c]))


@pytest.mark.parametrize('bad, error', [
    (lambda a: a.astype(np.float32), TypeError),
    (lambda a: a[:-1], ValueError),
    (lambda a: a[..., :2], ValueError),
])
def test_bad_inputs_raise(pair, bad, error):
    rainy, clean = pair
    with pytest.raises(error):
        calculate_psnr(bad(rainy), bad(clean) if error is TypeError else clean)
    with pytest.raises(ValueError, match='color_space'):
        calculate_ssim(rainy, clean, color_space='ycbcr')


def test_quantize_matches_img_as_ubyte():
    rng = np.random.default_rng(1)
    img = rng.uniform(-0.2, 1.2, (3, 17, 19)).astype(np.float32)
    img[0, 0, :5] = np.array([0.5, 1.5, 2.5, 3.5, 254.5], dtype=np.float32) / 255  # ties
    expected = img_as_ubyte(np.clip(img, 0, 1).transpose(1, 2, 0))
    out = quantize(torch.from_numpy(img))
    assert out.dtype == np.uint8 and out.shape == (17, 19, 3)
    np.testing.assert_array_equal(out, expected)
    with pytest.raises(TypeError):
        quantize(torch.zeros(3, 4, 4, dtype=torch.uint8))
