"""Stage script of the fixture grid: a classical "deraining method" chosen by config.

``derain_filter.kind`` (``none`` | ``median``) filters the rainy images; the seed adds a Gaussian
blur of radius 0.4·seed so that seeds differ. Writes ``RUN_DIR/images/<testset>/*.png``.
"""
import argparse
from pathlib import Path

from PIL import Image, ImageFilter


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('run_dir', type=Path)
    parser.add_argument('rainy_dir', type=Path)
    parser.add_argument('--testset', required=True)
    parser.add_argument('--seed', type=int, required=True)
    parser.add_argument('--cfg-options', nargs='*', default=[])
    args = parser.parse_args()
    options = dict(item.split('=', 1) for item in args.cfg_options)
    kind = options.get('derain_filter.kind', 'none').strip('\'"')
    out = args.run_dir / 'images' / args.testset
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(args.rainy_dir.glob('*.png')):
        img = Image.open(path).convert('RGB')
        if kind == 'median':
            img = img.filter(ImageFilter.MedianFilter(3))
        if args.seed:
            img = img.filter(ImageFilter.GaussianBlur(0.4 * args.seed))
        img.save(out / path.name)


if __name__ == '__main__':
    main()
