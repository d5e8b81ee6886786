"""Dataset cards: what a packed dataset holds, how degraded it is, and where it came from.

``pack`` stores the card in the file (``/card``); ``inspect`` prints it, and ``card X.h5
--format md`` writes it as Markdown. Files packed before cards existed get one computed on the
fly (PSNR/SSIM read every pair; the file is not written).
"""
from pathlib import Path

import numpy as np
from tqdm import tqdm

from danet.datasets import fingerprint as fpm
from danet.datasets import h5format as fmt
from danet.datasets.fingerprint_store import compute_packed_fingerprints, read_packed_fingerprints
from danet.datasets.manifest import BLOCK, Manifest
from danet.evaluation.functional import SSIM_WINDOW, calculate_psnr, calculate_ssim
from danet.evaluation.protocols import build_protocol
from danet.utils.hashing import ground_truth_hash

PROTOCOL = ('PSNR/SSIM of each degraded image against its target on the Y channel of MATLAB '
            'rgb2ycbcr (uint8), whole image (no border crop), peak 255, SSIM Gaussian 11x11 '
            'sigma 1.5 valid; mean over pairs (danet.evaluation.functional)')


def pair_metrics(rainy: np.ndarray, clean: np.ndarray) -> tuple[float, float | None]:
    """PSNR(Y) and SSIM(Y) of one degraded image against its target, as in ``PROTOCOL``
    (SSIM None for images smaller than its 11×11 window)."""
    small = min(rainy.shape[:2]) < SSIM_WINDOW
    return calculate_psnr(rainy, clean), None if small else calculate_ssim(rainy, clean)


def build_card(manifest: Manifest, attrs: dict, metrics, fps, provenance: dict | None = None
               ) -> dict:
    """The card of a packed dataset from its manifest, attributes, ``(psnr, ssim)`` of the
    measured pairs (all paired images, or a sample) and fingerprints ``{'gt': ..., 'lq': ...}``
    (arrays or HDF5 datasets, read in blocks). ``provenance`` may carry ``pairing``, the
    layout's rule. Identical pairs (infinite PSNR) are counted, not averaged. Memory does not
    grow with the images beyond a few numbers each: the per-image hashes stay in the manifest
    (``image_rows``)."""
    role = 'gt' if manifest.num_clean else 'lq'
    table, column = ('clean', 'path') if role == 'gt' else ('rainy', 'name')
    duplicates = [{'a': manifest.column(table, column, i, i + 1)[0],
                   'b': manifest.column(table, column, j, j + 1)[0],
                   'similarity': round(s, 4), 'flip': f}
                  for i, j, s, f in fpm.match(fps[role])]
    psnr = [m[0] for m in metrics if np.isfinite(m[0])]
    ssim = [m[1] for m in metrics if m[1] is not None]
    provenance = dict(provenance or {})
    pairing = provenance.pop('pairing', None)
    return {
        'layout': attrs['layout'], 'source': attrs['source'],
        **manifest_fields(manifest, attrs),
        'psnr_y': float(np.mean(psnr)) if psnr else None,
        'ssim_y': float(np.mean(ssim)) if ssim else None,
        'identical_pairs': len(metrics) - len(psnr),
        'measured_pairs': len(metrics),
        'pairing': pairing,
        'protocol': {'text': PROTOCOL, **build_protocol('mprnet_matlab').conventions()},
        'duplicates': {'compared': 'clean' if role == 'gt' else 'rainy',
                       'threshold': fpm.THRESHOLD, 'pairs': duplicates},
        'provenance': {'packed_from': attrs['source'], 'command': attrs.get('command', ''),
                       'created': attrs.get('created'), **provenance},
    }


def manifest_fields(manifest: Manifest, attrs: dict) -> dict:
    """The card's fields that follow from the manifest and attributes (``verify`` compares a
    stored card's with them)."""
    split = manifest.split
    clean_sha = manifest.column('clean', 'sha256')
    return {
        'rainy': manifest.num_rainy, 'clean': manifest.num_clean,
        'paired': int((manifest.clean_index >= 0).sum()),
        'sizes': _sizes(manifest.column('rainy', 'shape')),
        'content_hash': attrs['content_hash'],
        'ground_truth_hash': ground_truth_hash(clean_sha) if len(clean_sha) else None,
        'split': None if split is None else {k: len(v) for k, v in split.items()},
        'skipped': len(manifest.skipped),
        'converted': _converted(manifest),
        'excluded': len(manifest.excluded),
        'storage': attrs.get('storage', 'raw'),
    }


def _converted(manifest: Manifest) -> int:
    """How many images (rainy and clean) were converted to 8-bit RGB, counted in blocks."""
    return sum(int(np.count_nonzero(manifest.column(role, 'converted', start, start + BLOCK)))
               for role, n in (('rainy', manifest.num_rainy), ('clean', manifest.num_clean))
               for start in range(0, n, BLOCK))


def _sizes(shapes: np.ndarray) -> dict[str, int]:
    """``{'WxH': count}``, most common first (ties in order of first appearance)."""
    if not len(shapes):
        return {}
    sizes, first, counts = np.unique(shapes, axis=0, return_index=True, return_counts=True)
    order = sorted(range(len(sizes)), key=lambda k: (-counts[k], first[k]))
    return {f'{sizes[k][1]}x{sizes[k][0]}': int(counts[k]) for k in order}


def image_rows(manifest: Manifest):
    """``{'name', 'sha256', 'clean_sha256'}`` of every rainy image, read in blocks."""
    clean_sha = manifest.column('clean', 'sha256')  # one read, not one per rainy image
    for start in range(0, manifest.num_rainy, BLOCK):
        stop = min(start + BLOCK, manifest.num_rainy)
        names, shas = (manifest.column('rainy', c, start, stop) for c in ('name', 'sha256'))
        for k, clean in enumerate(manifest.clean_index[start:stop]):
            yield {'name': names[k], 'sha256': shas[k],
                   'clean_sha256': None if clean < 0 else clean_sha[clean]}


def stored_card(packed: fmt.PackedFile) -> dict | None:
    """The card stored in ``packed`` (None if it has none); ``DamagedFileError`` if a field a
    reader shows is missing or of another type."""
    card = packed.card
    if card is not None:
        card.pop('images', None)  # stored by format versions before 4
        with packed.reading('its card'):
            card_markdown(card, [])  # renders only when every field is there, of its type
    return card


def dataset_card(path: str | Path) -> dict:
    """The stored card of a packed file (without per-image hashes: ``image_rows``), or one
    computed now for files packed without it."""
    packed = fmt.PackedFile(path)
    try:
        card = stored_card(packed)
        if card is not None:
            return card
        fps = read_packed_fingerprints(packed) or compute_packed_fingerprints(packed)
        paired = np.flatnonzero(packed.manifest.clean_index >= 0)
        metrics = [pair_metrics(np.asarray(packed.rainy(i)[()]), np.asarray(packed.clean(i)[()]))
                   for i in tqdm(paired, desc=f'card {Path(path).name}', unit='pair')]
        return build_card(packed.manifest, packed.attrs, metrics, fps)
    finally:
        packed.close()


def _metric_text(card: dict) -> str:
    identical = card.get('identical_pairs', 0)
    if card['psnr_y'] is None:
        return (f'n/a: all {identical} measured pairs identical (infinite PSNR)' if identical
                else 'n/a (no targets)')
    ssim = 'n/a' if card['ssim_y'] is None else f'{card["ssim_y"]:.4f}'
    text = f'{card["psnr_y"]:.2f} dB / {ssim}'
    measured = card.get('measured_pairs', card['paired'])
    if measured < card['paired']:
        text += f' (sample of {measured} of {card["paired"]} pairs)'
    if identical:
        text += f'; {identical} identical pair(s) (infinite PSNR) left out of the PSNR mean'
    return text


def card_markdown(card: dict, images) -> str:
    """The card as Markdown (for a paper's supplement); ``images`` (``image_rows``) in a
    details block."""
    prov = card['provenance']
    sizes = ', '.join(f'{size} ({n})' for size, n in card['sizes'].items())
    metric = _metric_text(card)
    dups = card['duplicates']
    lines = [f'# Dataset card: {Path(card["source"]).name}', '',
             '| field | value |', '|---|---|',
             f'| degraded (rainy) images | {card["rainy"]} |',
             f'| target (clean) images | {card["clean"]} |',
             f'| pairs | {card["paired"]} |',
             f'| sizes (W x H: count) | {sizes} |',
             f'| train/val split | {card["split"] or "none"} |',
             f'| skipped / converted / excluded | {card["skipped"]} / {card["converted"]} / '
             f'{card.get("excluded", 0)} |',
             f'| degraded vs target PSNR / SSIM | {metric} |',
             f'| pairing rule | {card.get("pairing") or "not recorded"} |',
             f'| duplicate {dups["compared"]} images | {len(dups["pairs"])} pair(s) |',
             f'| content hash (sha256) | `{card["content_hash"]}` |',
             f'| ground-truth hash | `{card["ground_truth_hash"]}` |',
             f'| source | {prov.get("source") or "not declared"} |',
             f'| license | {prov.get("license") or "not declared"} |',
             f'| packed from | `{prov["packed_from"]}` on {prov.get("created")} |',
             '', f'Metric protocol: {card["protocol"]["text"]}.', '']
    if dups['pairs']:
        lines += ['Duplicates (fingerprint similarity >= '
                  f'{dups["threshold"]}):', '']
        lines += [f'- {d["a"]} = {d["b"]} ({d["similarity"]:.3f}{", flipped" if d["flip"] else ""})'
                  for d in dups['pairs']]
        lines.append('')
    lines += ['<details><summary>Per-image SHA-256 of the decoded pixels</summary>', '',
              '| image | sha256 | target sha256 |', '|---|---|---|']
    lines += [f'| {i["name"]} | `{i["sha256"]}` | `{i["clean_sha256"] or ""}` |'
              for i in images]
    lines += ['', '</details>', '']
    return '\n'.join(lines)

