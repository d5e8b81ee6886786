"""Comparison figures: rows = images, columns = rainy | each method | ground truth.

Each tile shows a zoomed inset of one box (given, or where the methods differ most) and its
Y-channel PSNR/SSIM against the ground truth; optional error-map rows. Images pair by file stem.
Without ground truth (real photos) the rainy folder is the reference: no ground-truth column,
each output is captioned with its mean absolute change from the rainy photo.
"""
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from analysis.store import AnalysisError
from analysis.style import RC, save
from danet.datasets.image_files import decode_rgb, list_images
from danet.evaluation.functional import calculate_psnr, calculate_ssim


def image_files(folder) -> dict[str, Path]:
    """Image files in ``folder`` by stem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AnalysisError(f'{folder}: image folder not found')
    return {p.stem: p for p in list_images(folder)}


def read_rgb(path: Path) -> np.ndarray:
    """uint8 H×W×3 by the platform's one decoder (``decode_rgb`` rules)."""
    try:
        return decode_rgb(path, convert=True)[0]
    except (OSError, ValueError) as err:
        raise AnalysisError(f'{path}: cannot decode image ({err})') from err


def differing_box(outputs: list[np.ndarray], size: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the size×size window where the outputs disagree most (pixel std)."""
    spread = np.stack([o.astype(np.float64).mean(axis=2) for o in outputs]).std(axis=0)
    integral = np.pad(spread.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = (integral[size:, size:] - integral[:-size, size:] - integral[size:, :-size]
            + integral[:-size, :-size])
    y, x = np.unravel_index(np.argmax(sums), sums.shape)
    return int(x), int(y), size, size


def _tile(ax, img, box, caption, cmap=None):
    x, y, w, h = box
    ax.imshow(img, cmap=cmap, vmin=0, vmax=255 if cmap is None else None)
    ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor='#D55E00', linewidth=1.2))
    inset = ax.inset_axes([0.6, 0.0, 0.4, 0.4])
    inset.imshow(img[y:y + h, x:x + w], cmap=cmap)
    inset.set_xticks([])
    inset.set_yticks([])
    for spine in inset.spines.values():
        spine.set(edgecolor='#D55E00', linewidth=1.2, visible=True)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(caption, fontsize=7)


def comparison_figure(gt_dir, methods: dict[str, Path], rainy_dir=None, names=None,
                      n_images: int = 3, box=None, error_maps: bool = False):
    """Build the figure; ``box`` is (x, y, w, h) or None for the most differing region."""
    if not methods:
        raise AnalysisError('comparison figure: give at least one method folder')
    if gt_dir is None and rainy_dir is None:
        raise AnalysisError('comparison figure: give --gt, or --rainy for photos without one')
    reference_only = gt_dir is None   # real photos: compare with the rainy input
    gts = image_files(rainy_dir if reference_only else gt_dir)
    method_files = {name: image_files(folder) for name, folder in methods.items()}
    rainy_files = image_files(rainy_dir) if rainy_dir else None
    common = [s for s in gts if all(s in files for files in method_files.values())
              and (rainy_files is None or s in rainy_files)]
    if names:
        missing = [n for n in names if Path(n).stem not in common]
        if missing:
            raise AnalysisError(f'images {missing} are not in every folder ({gt_dir}, '
                                f'{", ".join(map(str, methods.values()))})')
        chosen = [Path(n).stem for n in names]
    else:
        if not common:
            raise AnalysisError(f'no image stem is shared by {gt_dir} and every method folder')
        scores = {s: [calculate_psnr(read_rgb(f[s]), read_rgb(gts[s]))
                      for f in method_files.values()] for s in common}
        # most change from the rainy photo, else most disagreement between methods
        order = (lambda s: min(scores[s])) if reference_only else (lambda s: -np.ptp(scores[s]))
        chosen = sorted(common, key=order)[:n_images]

    columns = ((['Rainy'] if rainy_files else []) + list(methods)
               + ([] if reference_only else ['Ground truth']))
    rows_per_image = 2 if error_maps else 1
    fig, axes = plt.subplots(len(chosen) * rows_per_image, len(columns), squeeze=False,
                             figsize=(2.2 * len(columns), 1.9 * len(chosen) * rows_per_image))
    for i, stem in enumerate(chosen):
        gt = read_rgb(gts[stem])
        tiles = ([read_rgb(rainy_files[stem])] if rainy_files else [])
        tiles += [read_rgb(files[stem]) for files in method_files.values()]
        for tile, name in zip(tiles, columns, strict=False):
            if tile.shape != gt.shape:
                raise AnalysisError(f'{name} image {stem}: shape {tile.shape} differs from the '
                                    f'ground truth {gt.shape}')
        outputs = tiles[1:] if rainy_files else tiles
        region = box or differing_box(outputs + [gt], max(8, min(gt.shape[:2]) // 4))
        row = i * rows_per_image
        for j, tile in enumerate(tiles):
            if reference_only:
                change = np.abs(tile.astype(np.int16) - gt.astype(np.int16)).mean()
                caption = 'input' if j == 0 else f'mean |change| {change:.1f}'
            else:
                caption = f'{calculate_psnr(tile, gt):.2f} dB / {calculate_ssim(tile, gt):.4f}'
            _tile(axes[row, j], tile, region, caption)
            if error_maps:
                error = np.abs(tile.astype(np.int16) - gt.astype(np.int16)).mean(axis=2)
                _tile(axes[row + 1, j], error, region, 'mean |error|', cmap='cividis')
        if not reference_only:
            _tile(axes[row, -1], gt, region, 'PSNR / SSIM (Y)')
        if error_maps and not reference_only:
            axes[row + 1, -1].axis('off')
        axes[row, 0].set_ylabel(stem, fontsize=8)
    for j, name in enumerate(columns):
        axes[0, j].set_title(name, fontsize=8)
    fig.tight_layout()
    return fig


def write_figure(out_stem, **kwargs) -> list[Path]:
    """Build the comparison figure and save it as PDF and PNG."""
    with plt.rc_context(RC):
        return save(comparison_figure(**kwargs), out_stem)
