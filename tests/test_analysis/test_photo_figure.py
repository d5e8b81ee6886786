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
