"""``synth --task dehaze|lowlight``: the models' physics on real photos, seeding, packing."""
import json

import numpy as np
import pytest

from danet.datasets.image_files import decode_rgb
from danet.datasets.pack import pack
from data_tools.__main__ import main
from data_tools.degrade import add_low_light, ground_plane_depth, srgb_to_linear


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp('photos')
    assert main(['photos', str(folder), '--max-size', '128']) == 0
    return folder


def _synth(photos, out, task, seed='0'):
    assert main(['synth', str(photos), str(out), '--seed', seed, '--task', task]) == 0
    return json.loads((out / 'synthesis.json').read_text())


def test_haze_follows_the_scattering_model(photos, tmp_path):
    record = _synth(photos, tmp_path / 'h', 'dehaze')
    assert record['task'] == 'dehaze' and record['degraded_folder'] == 'hazy'
    for name, p in record['images'].items():
        hazy = decode_rgb(tmp_path / 'h' / 'hazy' / name)[0] / 255
        clean = decode_rgb(tmp_path / 'h' / 'clean' / name)[0] / 255
        assert 0.6 <= p['beta'] <= 1.8 and 0.7 <= p['airlight'] <= 1.0
        t = np.exp(-p['beta'] * ground_plane_depth(*hazy.shape[:2], p['horizon'],
                                                   p['near_depth']))[..., None]
        # inverting I = J·t + A·(1 − t) with the recorded parameters gives J back, up to rounding
        restored = (hazy - p['airlight'] * (1 - t)) / t
        assert np.abs(restored - clean).max() <= 0.5 / 255 / t.min() + 1e-9
        # haze scales contrast by t (constant along a row of the ground-plane depth)
        assert np.all(hazy.std(axis=1) <= t[:, 0] * clean.std(axis=1) + 1 / 255)
    depth = ground_plane_depth(100, 4, 0.4, 0.2)
    assert depth[0, 0] == 1 and depth[-1, 0] == pytest.approx(0.2, rel=0.02)
    assert np.all(np.diff(depth[:, 0]) <= 0)                # farther towards the horizon


def test_lowlight_darkens_and_adds_poisson_gaussian_noise(photos, tmp_path):
    record = _synth(photos, tmp_path / 'l', 'lowlight')
    for name, p in record['images'].items():
        low = decode_rgb(tmp_path / 'l' / 'low' / name)[0]
        clean = decode_rgb(tmp_path / 'l' / 'clean' / name)[0]
        expected = (p['gain'] * srgb_to_linear(clean / 255)) ** p['gamma']
        assert srgb_to_linear(low / 255).mean() == pytest.approx(expected.mean(), rel=0.1, abs=2e-3)
    # on a flat grey the linear variance is shot + read noise: a·mean + σ_r² (plus quantisation)
    flat = np.full((256, 256, 3), 230, np.uint8)
    low, p = add_low_light(flat, np.random.default_rng(3))
    linear = srgb_to_linear(low / 255)
    mean = (p['gain'] * srgb_to_linear(230 / 255)) ** p['gamma']
    assert linear.mean() == pytest.approx(mean, rel=0.05)
    model = p['shot'] * mean + p['read'] ** 2
    assert 0.8 * model < linear.var() < 1.5 * model


def test_tasks_are_seeded_and_pack_records_the_synthesis(photos, tmp_path):
    a = _synth(photos, tmp_path / 'a', 'lowlight', '5')
    b = _synth(photos, tmp_path / 'b', 'lowlight', '5')
    c = _synth(photos, tmp_path / 'c', 'lowlight', '6')
    assert c['images'] != a['images']
    name = next(iter(a['images']))
    img = {k: decode_rgb(tmp_path / k / 'low' / name)[0] for k in 'abc'}
    assert a == b and np.array_equal(img['a'], img['b']) and not np.array_equal(img['a'], img['c'])
    manifest = pack(tmp_path / 'a', tmp_path / 'low.h5', workers=1)
    assert manifest.num_rainy == len(a['images'])
    assert manifest.synthesis == a


def test_a_stopped_synth_leaves_nothing_at_the_destination(photos, tmp_path, monkeypatch):
    from data_tools import synth
    calls = []

    def failing(img, rng):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return img, {}
    monkeypatch.setattr(synth, 'add_haze', failing)
    with pytest.raises(KeyboardInterrupt):
        synth.synthesise(photos, tmp_path / 'out', seed=0, task='dehaze')
    assert len(calls) == 2 and list(tmp_path.iterdir()) == []
