"""Tiled inference: run an image-to-image function on overlapping tiles and blend them seamlessly.

Each tile is reflect-padded (right/bottom) to the network's size divisor and cropped back. Tiles
are blended with a separable window (zero on the outer quarter of each shared overlap, a linear
ramp over its middle half), so a network whose receptive radius is at most ``overlap // 4`` gives
the untiled result. Networks with global context (channel attention pools the whole tile, MPRNet
splits its input into quadrants) differ from their untiled output; the blend keeps that seamless.
"""
from collections.abc import Callable

import torch
from tqdm import tqdm

from danet.models.data_preprocessor import pad_to_multiple

ImageFn = Callable[[torch.Tensor], torch.Tensor]
DEFAULT_OVERLAP = 32


MIN_TILE = 32
MIN_OVERLAP = 8
"""The smallest tile and overlap a model is run with (``restore_overlap``): smaller ones change
the output without a word (PReNet, tiled vs untiled PSNR: tile 2 12.7 dB, tile 16 40.0 dB, tile 32
52.2 dB, tile 64 65.1 dB; docs/inference.md)."""


def default_overlap(tile: int) -> int:
    """The tile overlap when none is given: 32 pixels, a quarter of a tile under 128."""
    return min(DEFAULT_OVERLAP, tile // 4)


def restore_overlap(tile: int, overlap: int | None) -> int:
    """The overlap to restore with (``default_overlap`` when None), after refusing a tile under
    ``MIN_TILE`` or an overlap under ``MIN_OVERLAP`` (``ValueError`` naming ``--tile`` or
    ``--overlap`` and the minimum)."""
    if tile < MIN_TILE:
        raise ValueError(f'--tile {tile}: under the minimum of {MIN_TILE} pixels (smaller tiles '
                         'change the output: see docs/inference.md); use a larger tile or none')
    overlap = default_overlap(tile) if overlap is None else overlap
    if not MIN_OVERLAP <= overlap < tile:
        raise ValueError(f'--overlap {overlap}: must be at least {MIN_OVERLAP} pixels (seams '
                         f'otherwise) and under the tile ({tile})')
    return overlap


def pad_forward(fn: ImageFn, x: torch.Tensor, size_divisor: int) -> torch.Tensor:
    """``fn(x)`` with ``x`` padded right/bottom to a multiple of ``size_divisor``
    (``pad_to_multiple``, as the data preprocessor pads), cropped back."""
    height, width = x.shape[-2:]
    x = pad_to_multiple(x, size_divisor)
    y = fn(x)
    if not isinstance(y, torch.Tensor) or y.shape[-2:] != x.shape[-2:]:
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f'fn must map B×C×h×w to an image of the same size; '
                         f'for input {tuple(x.shape)} it returned {got}')
    return y[..., :height, :width]


def _starts(length: int, tile: int, stride: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, stride))
    return starts + [length - tile]


def _ramp(size: int, overlap: int, rise: bool, fall: bool, like: torch.Tensor) -> torch.Tensor:
    """1-D blending weights of one tile: 1 inside; at an edge shared with a neighbour, 0 over the
    outer quarter of the overlap (where zero padding corrupts the tile), then a linear ramp over
    its middle half. Opposite ramps of two neighbours sum to 1."""
    weight = torch.ones(size, dtype=like.dtype, device=like.device)
    if overlap:
        margin = overlap // 4
        steps = torch.arange(overlap, dtype=like.dtype, device=like.device)
        ramp = ((steps - margin + 1) / (overlap - 2 * margin + 1)).clamp(0, 1)
        if rise:
            weight[:overlap] = torch.minimum(weight[:overlap], ramp)
        if fall:
            weight[-overlap:] = torch.minimum(weight[-overlap:], ramp.flip(0))
    return weight


def tiled_forward(fn: ImageFn, x: torch.Tensor, tile: int, overlap: int, size_divisor: int,
                  *, progress: bool = False) -> torch.Tensor:
    """``fn`` applied to ``x`` (B×C×H×W) in ``tile``×``tile`` pieces overlapping by ``overlap``."""
    if x.ndim != 4:
        raise ValueError(f'x must be B×C×H×W, got shape {tuple(x.shape)}')
    if size_divisor < 1 or tile < size_divisor:
        raise ValueError(f'tile ({tile}) must be >= size_divisor ({size_divisor}) >= 1')
    if not 0 <= overlap < tile:
        raise ValueError(f'overlap ({overlap}) must be in [0, tile={tile})')
    height, width = x.shape[-2:]
    rows = _starts(height, tile, tile - overlap)
    cols = _starts(width, tile, tile - overlap)
    if len(rows) == len(cols) == 1:
        return pad_forward(fn, x, size_divisor)

    out = weight_sum = None
    boxes = [(top, left) for top in rows for left in cols]
    for top, left in tqdm(boxes, desc='tiles', disable=not progress):
        th, tw = min(tile, height), min(tile, width)
        y = pad_forward(fn, x[..., top:top + th, left:left + tw], size_divisor)
        if out is None:
            out = y.new_zeros(*y.shape[:2], height, width)
            weight_sum = y.new_zeros(height, width)
        weight = torch.outer(_ramp(th, overlap, top > 0, top + th < height, y),
                             _ramp(tw, overlap, left > 0, left + tw < width, y))
        out[..., top:top + th, left:left + tw] += y * weight
        weight_sum[top:top + th, left:left + tw] += weight
    return out / weight_sum
