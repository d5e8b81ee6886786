"""The comparison figure for real photos without ground truth (the rainy input as reference)."""
import re

import numpy as np
from PIL import Image, ImageFilter

from analysis import figures
from analysis.__main__ import main


def test_figure_without_ground_truth(shared_data, tmp_path):
    rainy, median = tmp_path / 'rainy', tmp_path / 'median'
    rainy.mkdir()
    median.mkdir()
    photos = sorted((shared_data / 'RealRain_SAPNet' / 'rainy').glob('*.png'))[:4]
    for path in photos:
        with Image.open(path) as img:
            img.save(rainy / path.name)
            img.filter(ImageFilter.MedianFilter(5)).save(median / path.name)
    fig = figures.comparison_figure(gt_dir=None, methods={'median 5x5': median}, rainy_dir=rainy,
                                    n_images=2)
    main_axes = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    assert [ax.get_title() for ax in main_axes[:2]] == ['Rainy input', 'median 5x5']  # no GT
    stem = main_axes[0].get_ylabel()
    rainy_img = np.asarray(Image.open(rainy / f'{stem}.png').convert('RGB'))
    crops_row = main_axes[2]                                # rainy crop first, box in its label
    x, y = map(int, re.search(r'x=(\d+), y=(\d+)', crops_row.get_ylabel()).groups())
    crop = crops_row.images[0].get_array()
    assert np.array_equal(crop, rainy_img[y:y + crop.shape[0], x:x + crop.shape[1]])

    out = tmp_path / 'fig' / 'real'
    main(['figure', '--rainy', str(rainy), '--method', f'median={median}', '--out', str(out),
          '--n-images', '2'])
    with Image.open(out.with_suffix('.png')) as img:
        assert np.asarray(img.convert('L')).std() > 5


def test_real_photo_figure_captions_each_tile_with_its_stored_niqe(shared_data, tmp_path):
    """The NIQE under each tile is the one tools/eval_folder.py --no-reference stored; the input
    column is named after its folder."""
    import importlib.util

    from tests.conftest import REPO_ROOT
    spec = importlib.util.spec_from_file_location('eval_folder', REPO_ROOT / 'tools' /
                                                  'eval_folder.py')
    eval_folder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(eval_folder)
    hazy, median = tmp_path / 'hazy', tmp_path / 'median'
    hazy.mkdir()
    median.mkdir()
    for path in sorted((shared_data / 'RealRain_SAPNet' / 'rainy').glob('*.png'))[:2]:
        with Image.open(path) as img:
            img.save(hazy / path.name)
            img.filter(ImageFilter.MedianFilter(5)).save(median / path.name)
    stored = {}
    for name, folder in (('Hazy input', hazy), ('median', median)):
        assert eval_folder.main([str(folder), '--no-reference', '--testset', 'Real',
                                 '--method', name, '--out-dir', str(tmp_path / name)]) == 0
        stored[name] = tmp_path / name / 'Real.json'
    niqe = dict(map(figures.read_niqe, stored.values()))
    fig = figures.comparison_figure(gt_dir=None, methods={'median': median}, rainy_dir=hazy,
                                    n_images=2, niqe=niqe)
    main_axes = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    assert [ax.get_title() for ax in main_axes[:2]] == ['Hazy input', 'median']
    stem = main_axes[0].get_ylabel()
    assert main_axes[0].get_xlabel() == f'NIQE {niqe["Hazy input"][stem]:.2f} (lower: more natural)'
    assert main_axes[1].get_xlabel() == f'NIQE {niqe["median"][stem]:.2f}'

    out = tmp_path / 'fig' / 'real'
    main(['figure', '--rainy', str(hazy), '--method', f'median={median}', '--out', str(out),
          *sum((['--niqe', str(p)] for p in stored.values()), [])])
    assert out.with_suffix('.png').stat().st_size > 0
