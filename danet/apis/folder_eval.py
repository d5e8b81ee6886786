"""Score a folder of predictions made elsewhere against a folder of ground truths, or alone with
the no-reference metrics (``evaluate_folder_no_reference``).

Files pair by name: an exact name first, else the same stem (``001.jpg`` ↔ ``001.png``) when no
other file shares that stem (several are ambiguous, and refused by name). Images
are read as the protocol's script reads them (``read_image``): grayscale files stay H×W, palette
files give their indices under the MATLAB protocols, everything else decodes to uint8 RGB.
``dataset_hash`` is the ``ground_truth_hash`` of the GT images decoded as RGB
(``danet.datasets.h5format``), the same hash that ``tools/test.py`` records, so both kinds of
results compare on the same ground truth.
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from danet.datasets.image_files import BadInputError, decode_rgb, list_images
from danet.evaluation.metric_table import (
    FULL_REFERENCE_KEYS,
    METRIC_TABLE,
    NO_REFERENCE_KEYS,
    UnscorableImage,
)
from danet.evaluation.metrics import check_metric_keys, make_lpips_scorer, score_pair
from danet.evaluation.protocols import DEFAULT_PROTOCOL, EvalProtocol, build_protocol
from danet.evaluation.results import build_results
from danet.utils.hashing import ground_truth_hash, pixel_hash


def pair_files(pred_dir: Path, gt_dir: Path) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """``(pred, gt)`` pairs sorted by GT name: the same name, else the same stem when no other
    file of either folder has it; and the ground truths without a prediction (a prediction folder
    may hold a subset). Raises ``BadInputError`` listing predictions without a ground truth,
    ambiguous files, or no pair at all."""
    preds, gts = _images(pred_dir), _images(gt_dir)
    if not gts:
        raise FileNotFoundError(f'no images in ground-truth folder {gt_dir}')
    exact = {p.name for p in preds} & {g.name for g in gts}
    by_stem: dict[str, tuple[list[Path], list[Path]]] = {}
    for side, files in enumerate((preds, gts)):
        for f in files:
            if f.name not in exact:
                by_stem.setdefault(f.stem, ([], []))[side].append(f)
    pairs = [(pred_dir / g.name, g) for g in gts if g.name in exact]
    problems, skipped = [], []
    for stem, (left_preds, left_gts) in by_stem.items():
        all_preds, all_gts = ([f for f in files if f.stem == stem] for files in (preds, gts))
        if left_preds and left_gts and len(all_preds) == len(all_gts) == 1:
            pairs.append((left_preds[0], left_gts[0]))
        elif not all_gts:
            problems += [(str(p), f'no ground truth in {gt_dir}') for p in left_preds]
        elif not all_preds:
            skipped += left_gts
        else:
            reason = (f'ambiguous: stem {stem} is shared by predictions '
                      f'{", ".join(f.name for f in all_preds)} and ground truths '
                      f'{", ".join(f.name for f in all_gts)}; rename all but one')
            problems += [(str(f), reason) for f in left_preds + left_gts]
    if not pairs and not problems:
        problems = [(str(pred_dir), f'no prediction named as a ground truth of {gt_dir}')]
    if problems:
        raise BadInputError(sorted(problems), header='unpaired images')
    return sorted(pairs, key=lambda pair: pair[1].name), sorted(skipped)


def evaluate_folders(pred_dir: str | Path, gt_dir: str | Path, testset: str, method: str,
                     metrics=FULL_REFERENCE_KEYS, protocol=DEFAULT_PROTOCOL,
                     lpips_device: str = 'cpu') -> dict:
    """Results dict (schema of ``danet.evaluation.results``) for every pair of the two folders,
    scored under ``protocol`` (a name, ``dict(type=NAME, crop_border=N)`` or an instance). Ground
    truths without a prediction are skipped and named on stderr (``dataset_hash`` then hashes the
    scored subset)."""
    pred_dir, gt_dir = Path(pred_dir), Path(gt_dir)
    metrics = check_metric_keys(metrics)
    protocol = build_protocol(protocol)
    scorer = make_lpips_scorer(metrics, lpips_device)
    pairs, skipped = pair_files(pred_dir, gt_dir)
    if skipped:
        tqdm.write(f'{testset}: scoring {len(pairs)} of {len(pairs) + len(skipped)} ground '
                   f'truths; skipped (no prediction): {", ".join(p.name for p in skipped)}',
                   file=sys.stderr)
    rows, gt_hashes = [], []
    for pred_path, gt_path in tqdm(pairs, desc=f'scoring {testset}', unit='img'):
        pred, gt = read_image(pred_path, protocol), read_image(gt_path, protocol)
        if pred.shape[:2] != gt.shape[:2]:
            raise ValueError(f'{pred_path} is {pred.shape[1]}×{pred.shape[0]} but its ground '
                             f'truth {gt_path} is {gt.shape[1]}×{gt.shape[0]}')
        try:
            scores = score_pair(pred, gt, metrics, protocol, scorer)
        except ValueError as err:
            raise ValueError(f'{pred_path} vs {gt_path}: {err}') from err
        rows.append({'name': gt_path.name, **scores})
        gt_hashes.append(pixel_hash(_decode(gt_path) if gt.ndim == 2 else gt))
    dataset_hash = ground_truth_hash(gt_hashes)
    return build_results(testset, method, rows, protocol.conventions(), None,
                         dataset_hash)


def evaluate_folder_no_reference(pred_dir: str | Path, testset: str, method: str,
                                 metrics=NO_REFERENCE_KEYS, protocol=DEFAULT_PROTOCOL) -> dict:
    """Results dict for every image of ``pred_dir`` scored alone by no-reference ``metrics``.

    Images decode to uint8 RGB (a grayscale file as three equal channels, as BasicSR reads it).
    An image a metric cannot score (``UnscorableImage``: too small, flat) goes to ``refused``
    with the reason and the rest are scored; ``ValueError`` if none can be. With no ground truth,
    ``dataset_hash`` hashes the sorted image stems, so methods scored on the same inputs share
    it."""
    pred_dir = Path(pred_dir)
    metrics = check_metric_keys(metrics)
    full = [k for k in metrics if METRIC_TABLE[k].reference != 'none']
    if full:
        raise ValueError(f'metrics {full} need a ground truth; no-reference metrics: '
                         f'{", ".join(NO_REFERENCE_KEYS)}')
    protocol = build_protocol(protocol)
    paths = _images(pred_dir)
    if not paths:
        raise FileNotFoundError(f'no images in {pred_dir}')
    rows, refused = [], []
    for path in tqdm(paths, desc=f'scoring {testset} (no reference)', unit='img'):
        try:
            rows.append({'name': path.name,
                         **score_pair(_decode(path), None, metrics, protocol)})
        except UnscorableImage as err:
            refused.append({'name': path.name, 'reason': str(err)})
        except ValueError as err:
            raise ValueError(f'{path}: {err}') from err
    if not rows:
        raise ValueError(f'no image of {pred_dir} could be scored: ' + '; '.join(
            f'{r["name"]}: {r["reason"]}' for r in refused))
    names_hash = ground_truth_hash(f'stem:{p.stem}' for p in paths)
    return build_results(testset, method, rows, protocol.conventions(), None, names_hash,
                         refused)


def _images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f'folder not found: {folder}')
    return list_images(folder)


def read_image(path: Path, protocol: EvalProtocol) -> np.ndarray:
    """``path`` as ``protocol``'s script reads it: 8-bit grayscale as H×W, a palette file as its
    indices (H×W) if ``protocol.palette_as_indices`` (MATLAB ``imread``), else uint8 RGB."""
    try:
        with Image.open(path) as img:
            if img.mode in ('L', 'LA') or (img.mode == 'P' and protocol.palette_as_indices):
                return np.array(img if img.mode == 'P' else img.convert('L'))
    except OSError as err:
        raise ValueError(f'{path}: cannot decode image ({err})') from err
    return _decode(path)


def _decode(path: Path):
    try:
        return decode_rgb(path, convert=True)[0]
    except (OSError, ValueError) as err:
        raise ValueError(f'{path}: cannot decode image ({err})') from err
