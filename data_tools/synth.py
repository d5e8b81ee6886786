"""Synthetic degradations over clean photographs, written in the ``pairs`` layout.

``--task derain`` (default) writes ``rainy/`` + ``clean/``; ``dehaze`` writes ``hazy/`` and
``lowlight`` writes ``low/`` beside ``clean/`` (models in ``data_tools.degrade``). Every task
writes ``synthesis.json`` (task, seed, model, parameter ranges and each image's drawn parameters),
which ``pack`` copies into the manifest's ``synthesis``. A photo's EXIF orientation is applied, as
viewers show it, and recorded (``exif_orientation``: name -> EXIF value).

Streaks: sparse uniform noise above a density threshold, blurred along a line at ``angle``
(motion blur of ``length`` pixels, thickened by a Gaussian of ``width``), scaled to
``intensity`` and screen-blended over the photo; optional haze blends towards white.
Each image draws from ``numpy.random.default_rng([seed, crc32(name)])``, so output depends only
on the seed, the parameters and the image itself, not on which other images are present.
"""
import math
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import convolve, gaussian_filter
from tqdm import tqdm

from danet.datasets.image_files import (
    IMAGE_SUFFIXES,
    applied_orientation,
    decode_rgb,
    list_images,
)
from danet.datasets.pack import SYNTHESIS_FILE
from danet.utils.fileio import atomic_dir, atomic_path, atomic_write_json
from data_tools.degrade import HAZE_RANGES, LOWLIGHT_RANGES, add_haze, add_low_light

# Colour photographs bundled with scikit-image (no download needed).
SKIMAGE_PHOTOS = ('astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg',
                  'hubble_deep_field.jpg', 'motorcycle_left.png', 'motorcycle_right.png',
                  'ihc.png', 'retina.jpg')


@dataclass(frozen=True)
class RainParams:
    density: float = 0.03    # fraction of pixels seeding a streak
    angle: float = 75.0      # streak direction in degrees from horizontal
    length: int = 21         # motion-blur length in pixels
    width: float = 0.6       # Gaussian sigma thickening the streaks
    intensity: float = 0.8   # peak streak brightness in [0, 1]
    haze: float = 0.0        # haze strength in [0, 1]

    def __post_init__(self):
        for key in ('density', 'intensity', 'haze'):
            if not 0 <= getattr(self, key) <= 1:
                raise ValueError(f'{key} must be in [0, 1], got {getattr(self, key)}')
        if self.length < 1 or self.width < 0:
            raise ValueError(f'length must be >= 1 and width >= 0, got {self.length}, {self.width}')


def _line_kernel(length: int, angle: float) -> np.ndarray:
    size = length if length % 2 else length + 1
    kernel = np.zeros((size, size), np.float32)
    c, t = size // 2, math.radians(angle)
    for s in np.linspace(-(length - 1) / 2, (length - 1) / 2, 2 * length):
        kernel[round(c - s * math.sin(t)), round(c + s * math.cos(t))] = 1
    return kernel / kernel.sum()


def add_rain(img: np.ndarray, params: RainParams, rng: np.random.Generator) -> np.ndarray:
    """Rainy version of a uint8 H×W×3 image."""
    h, w = img.shape[:2]
    seeds = (rng.random((h, w)) < params.density).astype(np.float32)
    seeds *= rng.uniform(0.5, 1.0, (h, w)).astype(np.float32)
    streaks = convolve(seeds, _line_kernel(params.length, params.angle), mode='wrap')
    if params.width > 0:
        streaks = gaussian_filter(streaks, params.width)
    streaks = np.clip(streaks / max(float(streaks.max()), 1e-6) * params.intensity * 1.5, 0, 1)
    base = img.astype(np.float32) / 255
    base = base * (1 - params.haze) + params.haze * 0.9
    rainy = 1 - (1 - base) * (1 - streaks[..., None])
    return np.round(np.clip(rainy, 0, 1) * 255).astype(np.uint8)


# task -> (folder of the degraded images, model name, parameter ranges)
TASKS = {'derain': ('rainy', 'streaks screen-blended (data_tools.synth.add_rain)', None),
         'dehaze': ('hazy', 'atmospheric scattering, ground-plane depth (data_tools.degrade)',
                    HAZE_RANGES),
         'lowlight': ('low', 'linear exposure + gamma, Poisson-Gaussian noise, 8-bit '
                             '(data_tools.degrade)', LOWLIGHT_RANGES)}


def synthesise(clean_dir: str | Path, out_dir: str | Path, seed: int,
               params: RainParams = RainParams(), task: str = 'derain') -> int:
    """Write ``out_dir/<degraded>/NAME.png``, ``out_dir/clean/NAME.png`` for every image in
    ``clean_dir`` and ``out_dir/synthesis.json``; return the count. ``params`` applies to
    ``derain``. Refuses an ``out_dir`` that already holds files; the folder is built beside it
    and renamed into place when complete, so a stopped run leaves nothing at ``out_dir``."""
    if task not in TASKS:
        raise ValueError(f'task {task!r}: choose one of {", ".join(TASKS)}')
    folder, model, ranges = TASKS[task]
    clean_dir, out_dir = Path(clean_dir), Path(out_dir)
    if not clean_dir.is_dir():
        raise FileNotFoundError(f'clean folder not found: {clean_dir}')
    sources = list_images(clean_dir)
    if not sources:
        raise ValueError(f'no images ({", ".join(IMAGE_SUFFIXES)}) in {clean_dir}')
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f'{out_dir} is not empty')
    with atomic_dir(out_dir) as tmp:
        for sub in (folder, 'clean'):
            (tmp / sub).mkdir()
        drawn, oriented = {}, {}
        for path in tqdm(sources, desc=f'synth {task}', unit='img'):
            try:
                clean, note = decode_rgb(path, convert=True, orient=True)
            except (OSError, ValueError) as err:
                raise ValueError(f'{path}: {err}') from None
            if applied_orientation(note) != 1:
                oriented[path.stem + '.png'] = applied_orientation(note)
            rng = np.random.default_rng([seed, zlib.crc32(path.name.encode())])
            name = path.stem + '.png'
            if task == 'derain':
                degraded, drawn[name] = add_rain(clean, params, rng), asdict(params)
            else:
                add = add_haze if task == 'dehaze' else add_low_light
                degraded, drawn[name] = add(clean, rng)
            Image.fromarray(degraded).save(tmp / folder / name)
            Image.fromarray(clean).save(tmp / 'clean' / name)
        atomic_write_json(tmp / SYNTHESIS_FILE, {
            'task': task, 'seed': seed, 'model': model, 'degraded_folder': folder,
            'ranges': ranges, 'images': drawn, 'exif_orientation': oriented})
    return len(sources)


def export_photos(out_dir: str | Path, max_size: int = 512) -> list[Path]:
    """Copy scikit-image's bundled colour photographs to ``out_dir`` as RGB PNG, the longer
    side shrunk to at most ``max_size``."""
    import skimage.data
    source = Path(skimage.data.__file__).parent
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SKIMAGE_PHOTOS:
        img = Image.fromarray(decode_rgb(source / name, convert=True)[0])
        img.thumbnail((max_size, max_size), Image.Resampling.LANCZOS)
        target = out_dir / (Path(name).stem + '.png')
        with atomic_path(target) as tmp:
            img.save(tmp, format='PNG')
        written.append(target)
    return written
