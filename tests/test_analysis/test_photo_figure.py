"""The comparison figure for real photos without ground truth (the rainy input as reference)."""
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
    assert [ax.get_title() for ax in main_axes[:2]] == ['Rainy', 'median 5x5']   # no GT column
    stem = main_axes[0].get_ylabel()
    change = np.abs(np.asarray(Image.open(median / f'{stem}.png').convert('RGB'), np.int16)
                    - np.asarray(Image.open(rainy / f'{stem}.png').convert('RGB'), np.int16))
    assert main_axes[1].get_xlabel() == f'mean |change| {change.mean():.1f}'

    out = tmp_path / 'fig' / 'real'
    main(['figure', '--rainy', str(rainy), '--method', f'median={median}', '--out', str(out),
          '--n-images', '2'])
    with Image.open(out.with_suffix('.png')) as img:
        assert np.asarray(img.convert('L')).std() > 5
