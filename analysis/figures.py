"""Comparison figures: rows = images, columns = degraded input | each method | ground truth.

Each tile shows a zoomed inset of one box (given, or where the methods differ most), placed in
the corner that hides the least and joined to the box, and its Y-channel PSNR/SSIM against the
ground truth as stored per image in the results file of the method's folder (``stored_scores``:
never recomputed here); optional error-map rows with a colour bar. Without ground truth (real
photographs) the crops sit side by side under the whole tiles, each tile captioned with its stored
NIQE when given (``niqe``: per column, per image, from results files ``tools/eval_folder.py
--no-reference`` wrote). The input column is named after its folder (``rainy/`` → Rainy input,
``hazy/``, ``low/``). Images pair by file stem.
"""
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from analysis.store import AnalysisError, protocol_label
from analysis.style import RC, save, width
from danet.datasets.image_files import INPUT_NAMES, decode_rgb, list_images
from danet.evaluation.metric_table import METRIC_TABLE
from danet.evaluation.results import read_results

ZOOM_COLOR = '#D55E00'   # vermilion (Okabe-Ito), visible on grey rain and on cividis
ERROR_CMAP = 'cividis'
SINGLE_MAX_COLUMNS = 3   # image columns readable in a 3.5 in figure


def image_files(folder) -> dict[str, Path]:
    """Image files in ``folder`` by stem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AnalysisError(f'{folder}: image folder not found')
    return {p.stem: p for p in list_images(folder)}


def stored_scores(folder) -> tuple[dict[str, dict], dict | None]:
    """Per-image rows (by stem) and conventions of the results stored for the images in
    ``folder`` (``<run>/images/<testset>/`` -> ``<run>/results/<testset>.json``, or a
    ``results/<testset>.json`` up to three levels above); ``({}, None)`` when none is stored."""
    folder = Path(folder)
    for parent in list(folder.parents)[:3]:
        path = parent / 'results' / f'{folder.name}.json'
        if path.is_file():
            results = read_results(path)
            return {Path(r['name']).stem: r for r in results['images']}, results['conventions']
    return {}, None


def _caption(row: dict | None) -> str:
    """Stored Y-channel PSNR/SSIM of one image, in the metric table's labels and decimals."""
    if not row or 'psnr_y' not in row:
        return 'no stored scores\n(tools/eval_folder.py)'
    lines = [f'{METRIC_TABLE[k].label} {row[k]:.{METRIC_TABLE[k].decimals}f}'
             + (' dB' if k == 'psnr_y' else '') for k in ('psnr_y', 'ssim_y') if k in row]
    return '\n'.join(lines)


def read_rgb(path: Path) -> np.ndarray:
    """uint8 H×W×3 by the platform's one decoder (``decode_rgb`` rules)."""
    try:
        return decode_rgb(path, convert=True)[0]
    except (OSError, ValueError) as err:
        raise AnalysisError(f'{path}: cannot decode image ({err})') from err


def check_box(box, shape, where: str) -> tuple[int, int, int, int]:
    """``box`` (x, y, w, h) if it lies inside an image of ``shape``, else a one-line error."""
    x, y, w, h = box
    height, width_ = shape[:2]
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > width_ or y + h > height:
        raise AnalysisError(f'--box {x},{y},{w},{h} does not fit {where} ({width_}×{height} '
                            f'pixels): give x,y ≥ 0, w,h > 0, x+w ≤ {width_}, y+h ≤ {height}')
    return box


def differing_box(outputs: list[np.ndarray], size: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the size×size window where the outputs disagree most (pixel std)."""
    spread = np.stack([o.astype(np.float64).mean(axis=2) for o in outputs]).std(axis=0)
    integral = np.pad(spread.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = (integral[size:, size:] - integral[:-size, size:] - integral[size:, :-size]
            + integral[:-size, :-size])
    y, x = np.unravel_index(np.argmax(sums), sums.shape)
    return int(x), int(y), size, size


INSET_FRACTIONS = (0.4, 0.33, 0.25)   # inset side as a share of the tile, largest that fits


def inset_place(img: np.ndarray, box) -> list[float] | None:
    """Axes-fraction [x0, y0, w, h] of the corner inset that hides the least image detail
    (gradient energy) without touching the zoomed box; None when no corner is free."""
    height, width_ = img.shape[:2]
    gray = img.astype(np.float64).mean(axis=2) if img.ndim == 3 else img.astype(np.float64)
    detail = np.abs(np.diff(gray, axis=0, prepend=gray[:1])) + np.abs(
        np.diff(gray, axis=1, prepend=gray[:, :1]))
    x, y, w, h = box
    for frac in INSET_FRACTIONS:
        fw, fh = int(round(frac * width_)), int(round(frac * height))
        best = None
        for cx, cy in ((width_ - fw, height - fh), (0, height - fh), (width_ - fw, 0), (0, 0)):
            if cx < x + w and x < cx + fw and cy < y + h and y < cy + fh:
                continue                               # would cover the zoomed region
            cost = detail[cy:cy + fh, cx:cx + fw].sum()
            if best is None or cost < best[0]:
                best = (cost, cx, cy)
        if best is not None:
            _, cx, cy = best       # image rows grow downwards, axes fractions upwards
            return [cx / width_, 1 - (cy + fh) / height, frac, frac]
    return None


def _tile(ax, img, box, caption, place, cmap=None, vmax=None):
    """One image with its box; ``place`` (axes fractions) puts the zoomed inset, None: none."""
    x, y, w, h = box
    shown = ax.imshow(img, cmap=cmap, vmin=0, vmax=255 if cmap is None else vmax)
    if place is None:
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), w, h, fill=False, edgecolor=ZOOM_COLOR,
                               linewidth=1.0))
    else:
        zoom = ax.inset_axes(place)
        zoom.imshow(img, cmap=cmap, vmin=0, vmax=255 if cmap is None else vmax)
        zoom.set(xlim=(x - 0.5, x + w - 0.5), ylim=(y + h - 0.5, y - 0.5), xticks=[], yticks=[])
        for spine in zoom.spines.values():
            spine.set(edgecolor=ZOOM_COLOR, linewidth=1.0, visible=True)
        ax.indicate_inset_zoom(zoom, edgecolor=ZOOM_COLOR, linewidth=0.8, alpha=1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(caption, fontsize=6)
    return shown


def _pick(common, gts, scores, names, n_images, where):
    if names:
        missing = [n for n in names if Path(n).stem not in common]
        if missing:
            raise AnalysisError(f'images {missing} are not in every folder ({where})')
        return [Path(n).stem for n in names]
    if not common:
        raise AnalysisError(f'no image stem is shared by every folder ({where})')
    if gts is None:
        return common[:n_images]
    psnr = {s: [rows[s]['psnr_y'] for rows in scores.values() if 'psnr_y' in rows.get(s, {})]
            for s in common}     # the images whose stored PSNR moves most across the methods
    return sorted(common, key=lambda s: -np.ptp(psnr[s]) if psnr[s] else 0)[:n_images]


def read_niqe(results_file: Path) -> tuple[str, dict[str, float]]:
    """The ``method`` of a results file and its per-image ``niqe`` by image stem."""
    try:
        data = read_results(results_file)
    except (OSError, ValueError, KeyError) as err:
        raise AnalysisError(f'{results_file}: cannot read a results file ({err})') from err
    values = {Path(row['name']).stem: row['niqe'] for row in data['images'] if 'niqe' in row}
    if not values:
        raise AnalysisError(f'{results_file}: no per-image niqe; score the folder with '
                            '`tools/eval_folder.py DIR --no-reference ...`')
    return data['method'], values


def comparison_figure(gt_dir, methods: dict[str, Path], rainy_dir=None, names=None,
                      n_images: int = 3, box=None, error_maps: bool = False,
                      layout: str = 'double', niqe: dict[str, dict[str, float]] | None = None):
    """Build the figure; ``box`` is (x, y, w, h) or None for the most differing region.

    Without ``gt_dir`` (real rainy photographs) ``rainy_dir`` is required: each image gets a
    row of whole tiles (input, each method) and a row of the zoomed crops side by side.
    """
    if not methods:
        raise AnalysisError('comparison figure: give at least one method folder')
    if gt_dir is None and rainy_dir is None:
        raise AnalysisError('comparison figure: give --gt, or --rainy for real photographs '
                            'without ground truth')
    gts = image_files(gt_dir) if gt_dir else None
    method_files = {name: image_files(folder) for name, folder in methods.items()}
    rainy_files = image_files(rainy_dir) if rainy_dir else None
    stems = gts if gts is not None else rainy_files
    common = [s for s in stems if all(s in files for files in method_files.values())
              and (rainy_files is None or s in rainy_files)]
    where = ', '.join(map(str, [gt_dir or rainy_dir, *methods.values()]))
    stored = {name: stored_scores(folder) for name, folder in methods.items()}
    scores = {name: rows for name, (rows, _) in stored.items()}
    rainy_scores = stored_scores(rainy_dir)[0] if rainy_dir else {}
    protocols = sorted({protocol_label(c) for _, c in stored.values() if c})
    chosen = _pick(common, gts, scores, names, n_images, where)

    input_name = INPUT_NAMES.get(Path(rainy_dir).name, 'Input') if rainy_dir else None
    columns = (([input_name] if rainy_files else []) + list(methods)
               + (['Ground truth'] if gts is not None else []))
    if layout == 'single' and len(columns) > SINGLE_MAX_COLUMNS:
        raise AnalysisError(f'{len(columns)} image columns do not fit a single column (3.5 in, '
                            f'at most {SINGLE_MAX_COLUMNS}): use --layout double or fewer '
                            '--method folders')
    rows_per_image = 2 if (error_maps and gts is not None) or gts is None else 1
    tile_w = width(layout) / len(columns)
    aspects = []
    for stem in chosen:
        height, width_ = read_rgb((gts or rainy_files)[stem]).shape[:2]
        aspects += [height / width_] * rows_per_image
    fig, axes = plt.subplots(len(aspects), len(columns), squeeze=False, layout='constrained',
                             gridspec_kw={'height_ratios': [a + 0.12 for a in aspects]},
                             figsize=(width(layout), sum(tile_w * a + 0.35 for a in aspects)))
    for i, stem in enumerate(chosen):
        gt = read_rgb(gts[stem]) if gts is not None else None
        tiles = ([read_rgb(rainy_files[stem])] if rainy_files else [])
        tiles += [read_rgb(files[stem]) for files in method_files.values()]
        reference = gt if gt is not None else tiles[0]
        for tile, name in zip(tiles, columns, strict=False):
            if tile.shape != reference.shape:
                raise AnalysisError(f'{name} image {stem}: shape {tile.shape} differs from '
                                    f'{columns[0] if gt is None else "the ground truth"} '
                                    f'{reference.shape}')
        outputs = tiles[1:] if rainy_files else tiles
        if box:
            region = check_box(box, reference.shape, f'image {stem}')
        else:
            # with ground truth: where outputs and truth disagree; without: where the methods
            # changed the photo most
            region = differing_box(outputs + [gt] if gt is not None else tiles,
                                   max(8, min(reference.shape[:2]) // 4))
        row = i * rows_per_image
        place = inset_place(reference, region)     # one corner for the whole row
        if gt is None:
            values = [(niqe or {}).get(name, {}).get(stem) for name in columns]
            captions = ['' if v is None else f'NIQE {v:.2f}' for v in values]
            if any(captions):
                captions[0] += ' (lower: more natural)'
            _real_photo_rows(axes[row], axes[row + 1], tiles, region, captions)
        else:
            captions = [_caption(s.get(stem)) for s in scores.values()]
            if rainy_files:     # the input: its stored scores if eval_folder scored it, else none
                captions.insert(0, _caption(rainy_scores[stem]) if stem in rainy_scores else '')
            for j, (tile, caption) in enumerate(zip(tiles, captions, strict=True)):
                _tile(axes[row, j], tile, region, caption, place)
            _tile(axes[row, -1], gt, region,
                  f'PSNR/SSIM: Y channel,\n{" / ".join(protocols) or "none stored"}', place)
            if error_maps:
                _error_row(fig, axes[row + 1], tiles, gt, region, place)
        axes[row, 0].set_ylabel(stem, fontsize=7)
    for j, name in enumerate(columns):
        axes[0, j].set_title(name, fontsize=7)
    return fig


def _error_row(fig, axes, tiles, gt, region, place):
    """|error| maps on one shared scale (up to the row's 99th percentile), with a colour bar in
    8-bit levels in the otherwise empty ground-truth column."""
    errors = [np.abs(t.astype(np.int16) - gt.astype(np.int16)).mean(axis=2) for t in tiles]
    top = max(float(np.percentile(np.stack(errors), 99)), 1.0)
    for ax, error in zip(axes, errors, strict=False):
        shown = _tile(ax, error, region, f'mean {error.mean():.1f}', place,
                      cmap=ERROR_CMAP, vmax=top)
    axes[-1].axis('off')
    bar = fig.colorbar(shown, cax=axes[-1].inset_axes([0.08, 0.05, 0.08, 0.9]), extend='max')
    bar.set_label('|error| (8-bit levels,\nmean over R, G, B)', fontsize=6)
    bar.ax.tick_params(labelsize=6)


def _real_photo_rows(top, bottom, tiles, region, captions):
    """No ground truth: whole tiles with the box and their captions, then the crops side by
    side."""
    x, y, w, h = region
    for ax, tile, caption in zip(top, tiles, captions, strict=True):
        _tile(ax, tile, region, caption, None)
    for ax, tile in zip(bottom, tiles, strict=True):
        ax.imshow(tile[y:y + h, x:x + w], vmin=0, vmax=255)
        ax.set(xticks=[], yticks=[])
        for spine in ax.spines.values():
            spine.set(edgecolor=ZOOM_COLOR, linewidth=1.0, visible=True)
    bottom[0].set_ylabel(f'crop {w}×{h}\nat x={x}, y={y}', fontsize=6)


def write_figure(out_stem, layout: str = 'double', **kwargs) -> list[Path]:
    """Build the comparison figure and save it as PDF and PNG."""
    with plt.rc_context(RC):
        return save(comparison_figure(layout=layout, **kwargs), out_stem)
