"""Each evaluation protocol against an independent computation of its paper's arithmetic.

The reference functions below restate the authors' scripts plainly (PReNet's ``psnr.m`` and
``ssim.m`` with ``rgb2ycbcr(im2double(.))``; BasicSR's ``to_y_channel``/``_ssim`` with OpenCV
filtering) without using the code under test; the slow test runs the MATLAB arithmetic in GNU
Octave itself.
"""
import math
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from scipy.ndimage import uniform_filter
from scipy.signal import convolve2d

from danet.apis.folder_eval import evaluate_folders, read_image
from danet.evaluation.functional import calculate_psnr, calculate_ssim
from danet.evaluation.metric_table import METRIC_TABLE, MetricSpec
from danet.evaluation.metrics import score_pair
from danet.evaluation.protocols import build_protocol, protocol_names
from danet.evaluation.results import build_results, read_results
from danet.registry import METRICS
from danet.structures import DerainSample


@pytest.fixture(scope='module')
def pair(shared_data):
    load = lambda kind: np.array(Image.open(shared_data / 'Rain100L' / kind / '004.png'))  # noqa: E731
    return load('rainy'), load('clean')


def tiled(img, h, w):
    """A real image repeated to h×w: large enough for ssim.m to downsample."""
    return np.ascontiguousarray(np.tile(img, (4, 4, 1))[:h, :w])


# ---------------------------------------------------------------- PReNet, restated from MATLAB
def prenet_y(u8):
    """rgb2ycbcr(im2double(img)), channel 1: T = origT / 255, offset 16 / 255, on [0, 1]."""
    x = u8 / 255.0
    return 65.481 / 255 * x[..., 0] + 128.553 / 255 * x[..., 1] + 24.966 / 255 * x[..., 2] \
        + 16 / 255


def psnr_m(f1, f2):
    """PReNet's psnr.m: peak 1 unless max(f1) > 2, MSE = sum(e.^2) / (m*n)."""
    fmax = 2.0 ** (8 if f1.max() > 2 else 1) - 1
    e = f1 - f2
    return 10 * np.log10(fmax ** 2 / (np.sum(e ** 2) / e.size))


def gaussian_11():
    x = np.arange(11) - 5
    g = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * 1.5 ** 2))
    return g / g.sum()


def ssim_m(img1, img2):
    """Wang's ssim.m: f×f mean filter ('symmetric', 'same', MATLAB's centre) and subsampling by
    f = max(1, round(min(M, N) / 256)), then filter2 'valid' with the 11×11 Gaussian."""
    f = max(1, int(np.floor(min(img1.shape) / 256 + 0.5)))       # MATLAB round: half away
    if f > 1:
        origin = (f + 1) // 2 - 1 - f // 2                        # MATLAB centre vs scipy's
        box = lambda x: uniform_filter(x, f, mode='reflect', origin=origin)[::f, ::f]  # noqa: E731
        img1, img2 = box(img1), box(img2)
    win = np.rot90(gaussian_11(), 2)                              # filter2 correlates
    conv = lambda x: convolve2d(x, win, mode='valid')  # noqa: E731
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu1, mu2 = conv(img1), conv(img2)
    s1, s2 = conv(img1 * img1) - mu1 ** 2, conv(img2 * img2) - mu2 ** 2
    s12 = conv(img1 * img2) - mu1 * mu2
    return np.mean((2 * mu1 * mu2 + c1) * (2 * s12 + c2)
                   / ((mu1 ** 2 + mu2 ** 2 + c1) * (s1 + s2 + c2)))


@pytest.mark.parametrize('size, factor', [(None, 1), ((520, 720), 2), ((640, 700), 3)])
def test_prenet_matlab_matches_statistic_scripts(pair, size, factor):
    rainy, clean = pair if size is None else (tiled(pair[0], *size), tiled(pair[1], *size))
    assert max(1, math.floor(min(rainy.shape[:2]) / 256 + 0.5)) == factor
    protocol = build_protocol('prenet_matlab')
    y_rainy, y_clean = prenet_y(rainy), prenet_y(clean)
    assert protocol.psnr(rainy, clean) == pytest.approx(psnr_m(y_rainy, y_clean), abs=1e-10)
    expected = ssim_m(y_rainy * 255, y_clean * 255)
    assert protocol.ssim(rainy, clean) == pytest.approx(expected, abs=1e-10)
    if factor > 1:   # the downsampling is really applied: Wang SSIM at full size differs
        assert abs(calculate_ssim(rainy, clean) - expected) > 1e-3


# ---------------------------------------------------------------- BasicSR, restated
def basicsr_y(rgb):
    """to_y_channel on a BGR image read by cv2: float32 /255, bgr2ycbcr y_only, float32, ×255."""
    bgr = rgb[..., ::-1].astype(np.float32) / 255.
    y = (np.dot(bgr, [24.966, 128.553, 65.481]) + 16.0) / 255.
    return (y.astype(np.float32) * 255.).astype(np.float64)


def basicsr_ssim(img, img2):
    window = np.outer(cv2.getGaussianKernel(11, 1.5), cv2.getGaussianKernel(11, 1.5).T)
    f = lambda x: cv2.filter2D(x, -1, window)[5:-5, 5:-5]  # noqa: E731
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu1, mu2 = f(img), f(img2)
    s1, s2, s12 = f(img ** 2) - mu1 ** 2, f(img2 ** 2) - mu2 ** 2, f(img * img2) - mu1 * mu2
    return ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)
            / ((mu1 ** 2 + mu2 ** 2 + c1) * (s1 + s2 + c2))).mean()


@pytest.mark.parametrize('crop', [0, 4])
def test_basicsr_matches_calculate_psnr_ssim(pair, crop):
    rainy, clean = pair
    c = slice(crop, -crop) if crop else slice(None)
    y_rainy, y_clean = basicsr_y(rainy[c, c]), basicsr_y(clean[c, c])
    protocol = build_protocol(dict(type='basicsr', crop_border=crop))
    mse = np.mean((y_rainy - y_clean) ** 2)
    assert protocol.psnr(rainy, clean) == pytest.approx(10 * np.log10(255 ** 2 / mse), abs=1e-10)
    assert protocol.ssim(rainy, clean) == pytest.approx(basicsr_ssim(y_rainy, y_clean), abs=1e-10)
    # float Y, not rounded: a measurable gap to mprnet_matlab on the same pixels
    assert abs(protocol.psnr(rainy, clean) - calculate_psnr(rainy, clean, crop_border=crop)) > 1e-3


def test_mprnet_matlab_is_the_default_and_unchanged(pair):
    rainy, clean = pair
    protocol = build_protocol()
    assert protocol.name == 'mprnet_matlab' and protocol.crop_border == 0
    for space in ('y', 'rgb'):
        assert protocol.psnr(rainy, clean, space) == calculate_psnr(rainy, clean, space)
        assert protocol.ssim(rainy, clean, space) == calculate_ssim(rainy, clean, space)


def test_quantisation_rounds_or_truncates():
    rng = np.random.default_rng(0)
    out = rng.uniform(-0.1, 1.1, (3, 9, 11)).astype(np.float32)
    out[0, 0, :4] = np.array([0.5, 1.5, 254.5, 254.999], dtype=np.float32) / 255
    clamped = np.clip(out, 0, 1).transpose(1, 2, 0)
    prenet = build_protocol('prenet_matlab').quantize(torch.from_numpy(out))
    np.testing.assert_array_equal(prenet, np.uint8(255 * clamped))           # PReNet's test_*.py
    for name in ('mprnet_matlab', 'basicsr'):
        rounded = build_protocol(name).quantize(torch.from_numpy(out))
        np.testing.assert_array_equal(rounded, (clamped * 255.0).round().astype(np.uint8))
    assert (prenet != rounded).mean() > 0.3


# ---------------------------------------------------------------- files, errors, the table
@pytest.fixture
def odd_files(pair, tmp_path):
    """A grayscale and a palette version of a real pair, in pred/ and gt/ folders."""
    for kind, img in zip(('pred', 'gt'), pair, strict=True):
        (tmp_path / kind).mkdir()
        Image.fromarray(img).convert('L').save(tmp_path / kind / 'gray.png')
        Image.fromarray(img).quantize(64).save(tmp_path / kind / 'pal.png')
    return tmp_path


def test_gray_and_palette_files_are_read_as_the_scripts_read_them(odd_files):
    gray = odd_files / 'pred' / 'gray.png'
    pal = odd_files / 'pred' / 'pal.png'
    mprnet, basicsr = build_protocol('mprnet_matlab'), build_protocol('basicsr')
    np.testing.assert_array_equal(read_image(gray, mprnet), np.asarray(Image.open(gray)))
    np.testing.assert_array_equal(read_image(pal, mprnet), np.asarray(Image.open(pal)))  # indices
    np.testing.assert_array_equal(read_image(pal, basicsr),
                                  np.asarray(Image.open(pal).convert('RGB')))
    results = evaluate_folders(odd_files / 'pred', odd_files / 'gt', 'T', 'm',
                               metrics=['psnr_y'], protocol='mprnet_matlab')
    raw = {n: [np.asarray(Image.open(odd_files / k / n), dtype=np.float64) for k in ('pred', 'gt')]
           for n in ('gray.png', 'pal.png')}
    for row in results['images']:   # raw gray values / palette indices, not Y of RGB
        a, b = raw[row['name']]
        assert row['psnr_y'] == pytest.approx(20 * np.log10(255 / np.sqrt(np.mean((a - b) ** 2))))
    with pytest.raises(ValueError, match=r'gray\.png: prenet_matlab: cannot score a grayscale.*'
                                         'rgb2ycbcr'):
        evaluate_folders(odd_files / 'pred', odd_files / 'gt', 'T', 'm', metrics=['psnr_y'],
                         protocol='prenet_matlab')


def test_score_pair_scores_every_key_by_its_table_row(pair, monkeypatch):
    """Regression: any key other than PSNR used to be scored as SSIM."""
    rainy, clean = pair
    protocol = build_protocol()
    monkeypatch.setitem(METRIC_TABLE, 'mae_y', MetricSpec(
        'mae_y', lambda p, a, b, _: float(np.abs(p.channels(a, 'y') - p.channels(b, 'y')).mean()),
        higher_is_better=False, decimals=3, label='MAE'))
    scores = score_pair(rainy, clean, ['ssim_rgb', 'mae_y', 'psnr_rgb'], protocol)
    y = lambda img: 16 + (img.astype(float) @ [65.481, 128.553, 24.966]) / 255  # noqa: E731
    assert list(scores) == ['psnr_rgb', 'ssim_rgb', 'mae_y']
    assert scores['mae_y'] == pytest.approx(np.abs(np.floor(y(rainy) + 0.5)
                                                   - np.floor(y(clean) + 0.5)).mean())
    assert scores['psnr_rgb'] == calculate_psnr(rainy, clean, 'rgb')
    assert scores['ssim_rgb'] == calculate_ssim(rainy, clean, 'rgb')
    results = build_results('T', 'm', [{'name': 'a', **scores}], protocol.conventions(), None, 'h')
    assert set(results['summary']) == {'psnr_rgb', 'ssim_rgb', 'mae_y'}
    with pytest.raises(ValueError, match="unknown metrics \\['psnr'\\]"):
        score_pair(rainy, clean, ['psnr'], protocol)


def test_drsformer_statistic_rounds_outputs_and_scores_as_prenet_matlab(pair):
    statistic, prenet = build_protocol('drsformer_statistic'), build_protocol('prenet_matlab')
    out = torch.tensor([[[0.4 / 255, 1.6 / 255]]]).expand(3, 1, 2)
    assert statistic.quantize(out)[0, :, 0].tolist() == [0, 2]     # rounded (img_as_ubyte)
    assert prenet.quantize(out)[0, :, 0].tolist() == [0, 1]        # truncated
    assert statistic.psnr(*pair) == prenet.psnr(*pair)
    assert statistic.ssim(*pair) == prenet.ssim(*pair)
    assert statistic.conventions()['quantize'] == 'round'
    with pytest.raises(ValueError, match='cannot score a grayscale'):
        statistic.psnr(pair[0][..., 0], pair[1][..., 0])


def test_bad_protocols_are_refused_with_the_choices():
    assert protocol_names() == ['basicsr', 'drsformer_statistic', 'mprnet_matlab',
                                'prenet_matlab']
    with pytest.raises(ValueError, match="unknown evaluation protocol 'matlab'; choose one of "
                                         'basicsr, drsformer_statistic, mprnet_matlab, '
                                         'prenet_matlab'):
        build_protocol('matlab')
    with pytest.raises(ValueError, match='crop_border must be a non-negative int'):
        build_protocol(dict(type='basicsr', crop_border=-1))


def test_derain_metric_records_and_applies_its_protocol(pair, tmp_path):
    rainy, clean = pair
    sample = DerainSample(metainfo=dict(name='004.png', testset='Rain100L'))
    sample.pred_img = torch.from_numpy(rainy).permute(2, 0, 1).float() / 255 - 0.3 / 255
    sample.gt_img = torch.from_numpy(clean).permute(2, 0, 1)
    metric = METRICS.build(dict(type='DerainMetric', metrics=['psnr_y'], results_dir=str(tmp_path),
                                protocol=dict(type='prenet_matlab', crop_border=2)))
    metric.process({}, [sample])
    metric.evaluate(1)
    results = read_results(tmp_path / 'Rain100L.json')
    assert results['conventions']['protocol'] == 'prenet_matlab'
    assert results['conventions']['crop_border'] == 2
    truncated = np.uint8(255 * np.clip(sample.pred_img.permute(1, 2, 0).numpy(), 0, 1))
    expected = psnr_m(prenet_y(truncated)[2:-2, 2:-2], prenet_y(clean)[2:-2, 2:-2])
    assert results['summary']['psnr_y'] == pytest.approx(expected, abs=1e-10)


# ---------------------------------------------------------------- GNU Octave
OCTAVE_SCRIPT = r'''
pkg load image
function v = y_u8(img)                  % evaluate_PSNR_SSIM.m: rgb2ycbcr on uint8
  v = img; if size(img, 3) == 3, v = rgb2ycbcr(img); v = v(:, :, 1); end
  v = double(v);
end
function v = wang(a, b, down)           % ssim_index / ssim.m on 0..255 doubles
  if down
    f = max(1, round(min(size(a)) / 256));
    if f > 1
      lpf = ones(f, f) / (f * f);
      a = imfilter(a, lpf, 'symmetric', 'same'); a = a(1:f:end, 1:f:end);
      b = imfilter(b, lpf, 'symmetric', 'same'); b = b(1:f:end, 1:f:end);
    end
  end
  w = fspecial('gaussian', 11, 1.5); C1 = (0.01 * 255) ^ 2; C2 = (0.03 * 255) ^ 2;
  m1 = filter2(w, a, 'valid'); m2 = filter2(w, b, 'valid');
  s1 = filter2(w, a .* a, 'valid') - m1 .^ 2; s2 = filter2(w, b .* b, 'valid') - m2 .^ 2;
  s12 = filter2(w, a .* b, 'valid') - m1 .* m2;
  v = mean2(((2 * m1 .* m2 + C1) .* (2 * s12 + C2)) ...
            ./ ((m1 .^ 2 + m2 .^ 2 + C1) .* (s1 + s2 + C2)));
end
names = strsplit(getenv('NAMES'), ',');
for k = 1:numel(names)
  p = imread(fullfile(getenv('PRED'), names{k})); g = imread(fullfile(getenv('GT'), names{k}));
  a = y_u8(p); b = y_u8(g);
  printf('mprnet %s %.15g %.15g\n', names{k}, ...
         20 * log10(255 / sqrt(mean((a(:) - b(:)) .^ 2))), wang(a, b, false));
  if size(p, 3) == 3
    a = rgb2ycbcr(im2double(p)); a = a(:, :, 1); b = rgb2ycbcr(im2double(g)); b = b(:, :, 1);
    printf('prenet %s %.15g %.15g\n', names{k}, ...
           10 * log10(1 / mean((a(:) - b(:)) .^ 2)), wang(a * 255, b * 255, true));
  end
end
'''


@pytest.mark.slow
def test_matlab_protocols_match_gnu_octave(odd_files, pair, debian_tool, tmp_path):
    octave = debian_tool('octave-cli', 'octave', 'octave-image')
    if octave is None:
        pytest.skip('GNU Octave (octave-cli with the image package) cannot be installed here')
    for kind, img in zip(('pred', 'gt'), pair, strict=True):
        Image.fromarray(img).save(odd_files / kind / 'rgb.png')
        Image.fromarray(tiled(img, 520, 720)).save(odd_files / kind / 'big.png')
    names = ['rgb.png', 'big.png', 'gray.png', 'pal.png']
    script = tmp_path / 'protocols.m'
    script.write_text(OCTAVE_SCRIPT)
    env = {**os.environ, 'NAMES': ','.join(names), 'PRED': str(odd_files / 'pred'),
           'GT': str(odd_files / 'gt')}
    done = subprocess.run([octave, '--no-gui', '--quiet', '--no-window-system', str(script)],
                          capture_output=True, text=True, env=env, timeout=300)
    if 'package image' in done.stderr or "'pkg'" in done.stderr:
        pytest.skip(f'Octave image package unavailable: {done.stderr[-300:]}')
    rows = [line.split() for line in done.stdout.splitlines() if line[:6] in ('mprnet', 'prenet')]
    assert len(rows) == 6, done.stdout + done.stderr
    for name, file, psnr, ssim in rows:
        # DRSformer's statistic.m (DID/DDN) scores files with the arithmetic of the prenet rows
        for protocol in [build_protocol(f'{name}_matlab')] + (
                [build_protocol('drsformer_statistic')] if name == 'prenet' else []):
            pred, gt = (read_image(odd_files / k / file, protocol) for k in ('pred', 'gt'))
            assert protocol.psnr(pred, gt) == pytest.approx(float(psnr), abs=1e-9), (name, file)
            assert protocol.ssim(pred, gt) == pytest.approx(float(ssim), abs=1e-9), (name, file)


@pytest.mark.slow
def test_eval_folder_command_takes_protocol_and_crop_border(pair, repo_root, tmp_path):
    for kind, img in zip(('pred', 'gt'), pair, strict=True):
        (tmp_path / kind).mkdir()
        Image.fromarray(img).save(tmp_path / kind / '004.png')
    done = subprocess.run(
        [sys.executable, 'tools/eval_folder.py', str(tmp_path / 'pred'), str(tmp_path / 'gt'),
         '--testset', 'Rain100L', '--method', 'rainy', '--out-dir', str(tmp_path / 'out'),
         '--no-lpips', '--protocol', 'basicsr', '--crop-border', '4'],
        cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    results = read_results(tmp_path / 'out' / 'Rain100L.json')
    assert results['conventions'] == build_protocol(dict(type='basicsr',
                                                         crop_border=4)).conventions()
    y_rainy, y_clean = (basicsr_y(img[4:-4, 4:-4]) for img in pair)
    assert results['summary']['psnr_y'] == pytest.approx(
        10 * np.log10(255 ** 2 / np.mean((y_rainy - y_clean) ** 2)), abs=1e-10)
