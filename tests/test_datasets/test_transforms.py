"""Paired transforms: same window and same flip on both images, DANet's 9-way draw, seeding."""
import numpy as np
import pytest
from mmcv.transforms import BaseTransform

from danet.datasets.transforms import (
    PairedCenterCrop,
    PairedFlipRot8,
    PairedRainStrength,
    PairedRandomCrop,
)


def test_transforms_follow_the_mmcv_contract_and_registry():
    from danet.registry import TRANSFORMS
    for name in ('PairedRandomCrop', 'PairedCenterCrop', 'PairedFlipRot8', 'PairedRainStrength'):
        transform = TRANSFORMS.build(dict(type=name))
        assert isinstance(transform, BaseTransform) and transform.transform(pair(8, 8)) is not None
    assert TRANSFORMS.get('RandomApply').__module__ == 'mmcv.transforms.wrappers'


def pair(h, w):
    img = np.arange(h * w * 3, dtype=np.uint32).reshape(h, w, 3).astype(np.uint8)
    return {'img': img, 'gt': img.copy(), 'name': 'x'}


def test_crop_takes_the_same_window():
    np.random.seed(0)
    out = PairedRandomCrop(8)(pair(20, 30))
    top, left, h, w = out['crop_box']
    assert out['img'].shape == (8, 8, 3) and np.array_equal(out['img'], out['gt'])
    assert np.array_equal(out['img'], pair(20, 30)['img'][top:top + 8, left:left + 8])


def test_crop_reflect_pads_small_images():
    out = PairedRandomCrop(8)(pair(5, 6))
    source = pair(5, 6)['img']
    assert out['img'].shape == (8, 8, 3) and out['crop_box'] == (0, 0, 8, 8)
    assert np.array_equal(out['img'][:5, :6], source)
    assert np.array_equal(out['img'][5, :6], source[3])  # reflect: the edge row is not repeated
    assert np.array_equal(out['img'][:5, 6], source[:, 4])


def test_crop_refuses_mismatched_pair():
    bad = pair(10, 10)
    bad['gt'] = bad['gt'][:9]
    with pytest.raises(ValueError, match='differ in size'):
        PairedRandomCrop(4)(bad)



def test_center_crop_takes_the_central_window_of_both():
    out = PairedCenterCrop(8)(pair(20, 31))
    assert out['crop_box'] == (6, 11, 8, 8)
    assert np.array_equal(out['img'], pair(20, 31)['img'][6:14, 11:19])
    assert np.array_equal(out['img'], out['gt'])


def test_center_crop_reflect_pads_small_sides():
    out = PairedCenterCrop(8)(pair(5, 12))
    source = pair(5, 12)['img']
    assert out['img'].shape == out['gt'].shape == (8, 8, 3) and out['crop_box'] == (0, 2, 8, 8)
    assert np.array_equal(out['img'][:5], source[:, 2:10])
    assert np.array_equal(out['img'][5], source[3, 2:10])  # reflect-padded at the bottom


def test_center_crop_refuses_mismatched_pair():
    bad = pair(10, 10)
    bad['gt'] = bad['gt'][:, :9]
    with pytest.raises(ValueError, match='x: img 10x10 and gt 10x9 differ in size'):
        PairedCenterCrop(4)(bad)

def test_flip_rot8_modes():
    np.random.seed(1)
    modes, flip = [], PairedFlipRot8()
    for _ in range(900):
        out = flip(pair(4, 6))
        assert np.array_equal(out['img'], out['gt'])
        modes.append(out['flip_rot_mode'])
        if out['flip_rot_mode'] in (0, 8):
            assert np.array_equal(out['img'], pair(4, 6)['img'])
        if out['flip_rot_mode'] == 3:
            assert np.array_equal(out['img'], np.rot90(pair(4, 6)['img']))
    assert set(modes) == set(range(9))
    outputs = {flip_mode_output(m) for m in range(1, 8)}
    assert len(outputs) == 7  # seven distinct non-identity transforms


def flip_mode_output(mode):
    op = PairedFlipRot8._OPS[mode]
    return np.ascontiguousarray(op(pair(4, 4)['img'])).tobytes()


def test_seeded_draws_repeat():
    runs = []
    for _ in range(2):
        np.random.seed(42)
        runs.append([PairedFlipRot8()(PairedRandomCrop(4)(pair(12, 12)))['img'].tobytes()
                     for _ in range(5)])
    assert runs[0] == runs[1]


def test_rain_strength_rescales_only_the_rain(monkeypatch):
    rng = np.random.default_rng(0)
    clean = rng.integers(0, 200, (8, 8, 3), dtype=np.uint8)
    rainy = (clean + 50).astype(np.uint8)
    always = PairedRainStrength(low=0.2, high=0.2, prob=1.0)
    out = always({'img': rainy.copy(), 'gt': clean.copy(), 'name': 'x'})
    assert out['rain_strength'] == pytest.approx(0.2)
    np.testing.assert_array_equal(out['img'], clean + 10)  # 0.2 of the +50 rain layer
    np.testing.assert_array_equal(out['gt'], clean)
    never = PairedRainStrength(prob=0.0)({'img': rainy.copy(), 'gt': clean.copy(), 'name': 'x'})
    assert never['rain_strength'] == 1.0 and np.array_equal(never['img'], rainy)
    unpaired = PairedRainStrength(prob=1.0)({'img': rainy.copy(), 'gt': None, 'name': 'x'})
    assert np.array_equal(unpaired['img'], rainy)
    with pytest.raises(ValueError, match='low <= high'):
        PairedRainStrength(low=0.9, high=0.1)
