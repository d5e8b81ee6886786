"""DerainMetric through the registry: per-image rows, means, prefix, the results file."""
import numpy as np
import pytest
import torch
from PIL import Image

from danet.evaluation.functional import calculate_psnr, calculate_ssim
from danet.evaluation.results import read_results
from danet.registry import METRICS
from danet.structures import DerainSample
from danet.utils.hashing import ground_truth_hash, pixel_hash

NAMES = ('001.png', '002.png')
NO_LPIPS = ('psnr_y', 'ssim_y', 'psnr_rgb', 'ssim_rgb')


@pytest.fixture(scope='module')
def pairs(shared_data):
    load = lambda kind, n: np.array(Image.open(shared_data / 'Rain100L' / kind / n))  # noqa: E731
    return [(load('rainy', n), load('clean', n)) for n in NAMES]


def samples(pairs, float_gt=False, **meta):
    out = []
    for name, (rainy, clean) in zip(NAMES, pairs, strict=True):
        gt = torch.from_numpy(clean).permute(2, 0, 1)
        sample = DerainSample(metainfo=dict(name=name, **meta))
        sample.pred_img = torch.from_numpy(rainy).permute(2, 0, 1).float() / 255
        sample.gt_img = gt.float() / 255 if float_gt else gt
        out.append(sample)
    return out


def test_rows_and_means_match_functional(pairs):
    metric = METRICS.build(dict(type='DerainMetric', metrics=NO_LPIPS))
    metric.process({}, [s.to_dict() for s in samples(pairs, testset='Rain100L', dataset_hash='h')])
    summary = metric.evaluate(len(NAMES))
    expected_psnr = [calculate_psnr(r, c) for r, c in pairs]
    assert [row['name'] for row in metric.last_rows] == list(NAMES)
    assert [row['psnr_y'] for row in metric.last_rows] == pytest.approx(expected_psnr)
    assert summary['Rain100L/psnr_y'] == pytest.approx(np.mean(expected_psnr))
    assert summary['Rain100L/ssim_rgb'] == pytest.approx(
        np.mean([calculate_ssim(r, c, 'rgb') for r, c in pairs]))
    assert set(summary) == {f'Rain100L/{k}' for k in NO_LPIPS}


def test_float_gt_and_explicit_prefix(pairs):
    metric = METRICS.build(dict(type='DerainMetric', metrics=['psnr_rgb'], prefix='val'))
    metric.process({}, samples(pairs, float_gt=True))
    summary = metric.evaluate(len(NAMES))
    assert summary == {'val/psnr_rgb': pytest.approx(
        np.mean([calculate_psnr(r, c, 'rgb') for r, c in pairs]))}


def test_writes_results_file_with_lpips(pairs, tmp_path):
    metric = METRICS.build(dict(type='DerainMetric', results_dir=str(tmp_path), method='rainy',
                                config_hash='cfg'))
    metric.process({}, samples(pairs, testset='Rain100L', dataset_hash='abc'))
    summary = metric.evaluate(len(NAMES))
    results = read_results(tmp_path / 'Rain100L.json')
    assert results['method'] == 'rainy'
    assert results['dataset_hash'] == ground_truth_hash(pixel_hash(clean) for _, clean in pairs)
    assert results['config_hash'] == 'cfg'
    assert [row['name'] for row in results['images']] == list(NAMES)
    assert results['summary']['lpips_alex'] == pytest.approx(summary['Rain100L/lpips_alex'])
    assert 0 < results['summary']['lpips_alex'] < 1


def test_errors_name_the_sample(pairs, tmp_path):
    metric = METRICS.build(dict(type='DerainMetric', metrics=['psnr_y']))
    bad = samples(pairs)[0]
    del bad.gt_img
    with pytest.raises(KeyError, match="'001.png' has no gt_img"):
        metric.process({}, [bad])
    writer = METRICS.build(dict(type='DerainMetric', metrics=['psnr_y'], results_dir=str(tmp_path)))
    writer.process({}, samples(pairs))
    with pytest.raises(ValueError, match='needs one testset'):
        writer.evaluate(len(NAMES))
    with pytest.raises(ValueError, match='unknown metrics'):
        METRICS.build(dict(type='DerainMetric', metrics=['psnr']))
