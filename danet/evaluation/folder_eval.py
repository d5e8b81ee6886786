"""Score a folder of predictions made elsewhere against a folder of ground truths.

Files pair by name: an exact name first, else the same stem (``001.jpg`` ↔ ``001.png``). Images
are read as the protocol's script reads them (``read_image``): grayscale files stay H×W, palette
files give their indices under the MATLAB protocols, everything else decodes to uint8 RGB.
``dataset_hash`` is the ``ground_truth_hash`` of the GT images decoded as RGB
(``danet.datasets.h5format``), the same hash that ``tools/test.py`` records, so both kinds of
results compare on the same ground truth.
"""
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from danet.datasets.h5format import ground_truth_hash, pixel_hash
from danet.datasets.image_files import BadInputError, decode_rgb, list_images
from danet.evaluation.metric_table import METRIC_KEYS
from danet.evaluation.metrics import check_metric_keys, make_lpips_scorer, score_pair
from danet.evaluation.protocols import DEFAULT_PROTOCOL, EvalProtocol, build_protocol
from danet.evaluation.results import build_results


def pair_files(pred_dir: Path, gt_dir: Path) -> list[tuple[Path, Path]]:
    """``(pred, gt)`` pairs sorted by GT name; raises ``BadInputError`` listing unpaired files."""
    preds, gts = _images(pred_dir), _images(gt_dir)
    if not gts:
        raise FileNotFoundError(f'no images in ground-truth folder {gt_dir}')
    pred_by_name = {p.name: p for p in preds}
    pred_by_stem: dict[str, list[Path]] = {}
    for p in preds:
        pred_by_stem.setdefault(p.stem, []).append(p)
    pairs, problems, used = [], [], set()
    for gt in gts:
        match = pred_by_name.get(gt.name)
        candidates = [match] if match else pred_by_stem.get(gt.stem, [])
        if len(candidates) != 1:
            reason = 'no prediction with this name or stem' if not candidates else \
                f'several predictions share its stem: {", ".join(c.name for c in candidates)}'
            problems.append((str(gt), reason))
            continue
        pairs.append((candidates[0], gt))
        used.add(candidates[0])
    problems += [(str(p), f'no ground truth in {gt_dir}') for p in preds if p not in used]
    if problems:
        raise BadInputError(problems, header='unpaired images')
    return pairs


def evaluate_folders(pred_dir: str | Path, gt_dir: str | Path, testset: str, method: str,
                     metrics=METRIC_KEYS, protocol=DEFAULT_PROTOCOL,
                     lpips_device: str = 'cpu') -> dict:
    """Results dict (schema of ``danet.evaluation.results``) for every pair of the two folders,
    scored under ``protocol`` (a name, ``dict(type=NAME, crop_border=N)`` or an instance)."""
    pred_dir, gt_dir = Path(pred_dir), Path(gt_dir)
    metrics = check_metric_keys(metrics)
    protocol = build_protocol(protocol)
    scorer = make_lpips_scorer(metrics, lpips_device)
    rows, gt_hashes = [], []
    for pred_path, gt_path in tqdm(pair_files(pred_dir, gt_dir), desc=f'scoring {testset}',
                                   unit='img'):
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
    except OSError as err:
        raise ValueError(f'{path}: cannot decode image ({err})') from err
