"""Derain image files (``tools/derain.py``): an image or a folder of any size to RGB PNGs.

An input is never overwritten: writing into the inputs' folder needs a ``suffix``, and two
inputs that would give the same output name (``x.jpg``, ``x.png``) are refused before any
work. An unreadable image (an animated one included) is skipped and listed at the end (return
code 1). EXIF orientation is applied, as viewers show the photo, and said on stderr.
"""
import sys
from pathlib import Path

import numpy as np
from mmengine.registry import init_default_scope
from PIL import Image
from tqdm import tqdm

from danet.apis.inference import derain, init_model
from danet.datasets.image_files import (
    IMAGE_SUFFIXES,
    applied_orientation,
    decode_rgb,
    list_images,
)
from danet.engine.tiling import restore_overlap
from danet.models.checkpoint import DEFAULT_REVISE_KEYS
from danet.registry import SCOPE
from danet.utils.devices import check_device
from danet.utils.fileio import atomic_path
from danet.utils.memory import keep_freed_memory
from danet.utils.names import check_name
from danet.utils.output_lock import output_lock
from danet.utils.threads import apply_thread_policy


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


def output_paths(images: list[Path], output_dir: Path, suffix: str) -> list[Path]:
    """The output of each image; refuses to overwrite an input or to write two images to one
    name (``ValueError`` naming the files and the fix)."""
    outputs = [output_dir / f'{path.stem}{suffix}.png' for path in images]
    inputs = {path.resolve() for path in images}
    clobbered = [out.name for out in outputs if out.resolve() in inputs]
    if clobbered or (not suffix and output_dir.resolve() in {p.parent for p in inputs}):
        named = f' ({", ".join(clobbered[:3])})' if clobbered else ''
        raise ValueError(f'{output_dir} holds the input images{named}: '
                         'writing there could overwrite them; choose another OUTPUT_DIR or '
                         'set a --suffix (e.g. --suffix _derained) that no input name has')
    seen: dict[Path, Path] = {}
    for image, out in zip(images, outputs, strict=True):
        if out in seen:
            raise ValueError(f'{seen[out].name} and {image.name} would both be written to {out}; '
                             'rename or move one of them')
        seen[out] = image
    return outputs


def read_image(path: Path) -> np.ndarray:
    """H×W×3 uint8 by the platform's one decoder (``decode_rgb`` rules: gray replicated,
    16-bit keeps the high byte, palette looked up, alpha dropped), upright as a viewer shows it
    (EXIF orientation applied and said on stderr); ``OSError``/``ValueError`` for a file it
    cannot decode (an animated one included)."""
    image, note = decode_rgb(path, convert=True, orient=True)
    if applied_orientation(note) != 1:
        print(f'derain: {path}: EXIF orientation {applied_orientation(note)} applied (the '
              'output is upright, as viewers show the input)', file=sys.stderr)
    return image


def derain_files(config: str, checkpoint: str, source: Path, output_dir: Path,
                 suffix: str = '', tile: int | None = None, overlap: int | None = None,
                 device: str = 'cpu', protocol: str | None = None,
                 key_rules=DEFAULT_REVISE_KEYS) -> int:
    """Derain ``source`` (a file or folder) into ``output_dir/<stem><suffix>.png``, each written
    atomically and quantised by ``protocol``'s rule (as ``tools/test.py`` scores it); 0, or 1
    when some images could not be read (listed on stderr). The options (``suffix`` through the
    name gate, ``tile``/``overlap``, ``device``) are checked before any work, and ``output_dir``
    has one writer at a time (``output_lock``)."""
    if suffix:
        check_name(suffix, '--suffix')
    if tile is not None:
        restore_overlap(tile, overlap)
    elif overlap is not None:
        raise ValueError(f'--overlap {overlap}: only used with --tile')
    device = check_device(device)
    init_default_scope(SCOPE)
    keep_freed_memory()
    images = input_images(source)
    outputs = output_paths(images, output_dir, suffix)
    with output_lock(output_dir, 'derain'):
        apply_thread_policy()
        model = init_model(config, checkpoint, device=device, key_rules=key_rules)
        failures = []
        for path, out in tqdm(list(zip(images, outputs, strict=True)), desc='derain', unit='img'):
            try:
                image = read_image(path)
            except (OSError, ValueError) as err:  # PIL: UnidentifiedImageError, truncated files
                failures.append(f'{path}: {err}')
                continue
            restored = derain(model, image, tile=tile, overlap=overlap, protocol=protocol)
            with atomic_path(out, suffix='.png') as tmp:
                Image.fromarray(restored).save(tmp, format='PNG')
    if failures:
        print(f'derain: {len(failures)} of {len(images)} image(s) failed:\n  ' +
              '\n  '.join(failures), file=sys.stderr)
        return 1
    return 0
