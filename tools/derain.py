"""Derain an image or a folder of images of any size:
``python tools/derain.py CONFIG CHECKPOINT INPUT OUTPUT_DIR [--tile N --overlap M]``.

RGB or grayscale inputs; each output is an RGB PNG of the input's size, written atomically."""
import argparse
from pathlib import Path

import numpy as np
from mmengine.registry import init_default_scope
from PIL import Image
from tqdm import tqdm

from danet.apis.inference import derain, init_model
from danet.datasets.image_files import IMAGE_SUFFIXES, list_images
from danet.registry import SCOPE
from danet.utils.fileio import atomic_path
from danet.utils.memory import keep_freed_memory


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
    """H×W×3 or H×W uint8 (grayscale stays single-channel)."""
    with Image.open(path) as img:
        return np.asarray(img.convert('L' if img.mode in ('L', 'I;16', 'I') else 'RGB'))


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
    keep_freed_memory()
    images = input_images(args.input)
    model = init_model(args.config, args.checkpoint, device=args.device)
    for path in tqdm(images, desc='derain', unit='img'):
        restored = derain(model, read_image(path), tile=args.tile, overlap=args.overlap)
        with atomic_path(args.output_dir / f'{path.stem}.png', suffix='.png') as tmp:
            Image.fromarray(restored).save(tmp, format='PNG')


if __name__ == '__main__':
    main()
