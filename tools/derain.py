"""Derain an image or a folder of images of any size:
``python tools/derain.py CONFIG CHECKPOINT INPUT OUTPUT_DIR [--tile N --overlap M]``.

Any input ``decode_rgb`` converts (gray, 16-bit, palette, alpha, CMYK); each output is an RGB
PNG of the input's size, written atomically."""
import argparse
import sys
from pathlib import Path

import numpy as np
from mmengine.registry import init_default_scope
from PIL import Image
from tqdm import tqdm

from danet.apis.inference import derain, init_model
from danet.datasets.image_files import IMAGE_SUFFIXES, decode_rgb, list_images
from danet.registry import SCOPE
from danet.utils.fileio import atomic_path


def input_images(source: Path) -> list[Path]:
    """``source`` itself if it is a file, else the images in the folder."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f'input not found: {source}')
    images = list_images(source)
    if not images:
        raise FileNotFoundError(f'no images ({", ".join(IMAGE_SUFFIXES)}) in {source}')
    return images


def read_image(path: Path) -> np.ndarray:
    """H×W×3 uint8 by the platform's one decoder (``decode_rgb`` rules: gray replicated,
    16-bit keeps the high byte, palette looked up, alpha dropped)."""
    try:
        return decode_rgb(path, convert=True)[0]
    except (OSError, ValueError) as err:
        raise ValueError(f'{path}: cannot decode image ({err})') from err


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('input', type=Path, help='an image file or a folder of images')
    parser.add_argument('output_dir', type=Path)
    parser.add_argument('--tile', type=int, help='process in tiles of this size (bounded memory)')
    parser.add_argument('--overlap', type=int, default=32, help='tile overlap in pixels')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    init_default_scope(SCOPE)
    try:
        images = input_images(args.input)
        model = init_model(args.config, args.checkpoint, device=args.device)
        for path in tqdm(images, desc='derain', unit='img'):
            restored = derain(model, read_image(path), tile=args.tile, overlap=args.overlap)
            with atomic_path(args.output_dir / f'{path.stem}.png', suffix='.png') as tmp:
                Image.fromarray(restored).save(tmp, format='PNG')
    except (FileNotFoundError, ValueError) as err:
        print(f'derain: {err}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
