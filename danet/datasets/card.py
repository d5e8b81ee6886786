"""Dataset cards: what a packed dataset holds, how degraded it is, and where it came from.

``pack`` stores the card in the file (``/card``); ``inspect`` prints it, and ``card X.h5
--format md`` writes it as Markdown. Files packed before cards existed get one computed on the
fly (PSNR/SSIM read every pair; the file is not written).
"""
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm

from danet.datasets import fingerprint as fpm
from danet.datasets import h5format as fmt
from danet.datasets.fingerprint_store import compute_packed_fingerprints, read_packed_fingerprints
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


def build_card(manifest: dict, attrs: dict, metrics: list, fps, provenance: dict | None = None
               ) -> dict:
    """The card of a packed dataset from its manifest, attributes, ``(psnr, ssim)`` of the
    measured pairs (all paired images, or a sample) and fingerprints ``{'gt': ..., 'lq': ...}``
    (arrays or HDF5 datasets, read in blocks). ``provenance`` may carry ``pairing``, the
    layout's rule. Identical pairs (infinite PSNR) are counted, not averaged."""
    rainy, clean = manifest['rainy'], manifest['clean']
    role = 'gt' if clean else 'lq'
    names = {'gt': [c['path'] for c in clean], 'lq': [r['name'] for r in rainy]}[role]
    duplicates = [{'a': names[i], 'b': names[j], 'similarity': round(s, 4), 'flip': f}
                  for i, j, s, f in fpm.match(fps[role])]
    psnr = [m[0] for m in metrics if np.isfinite(m[0])]
    ssim = [m[1] for m in metrics if m[1] is not None]
    split = manifest['split']
    provenance = dict(provenance or {})
    pairing = provenance.pop('pairing', None)
    return {
        'layout': attrs['layout'], 'source': attrs['source'],
        'rainy': len(rainy), 'clean': len(clean),
        'paired': sum(r['clean'] is not None for r in rainy),
        'sizes': dict(Counter(f'{w}x{h}' for h, w in (r['shape'] for r in rainy)).most_common()),
        'content_hash': attrs['content_hash'],
        'ground_truth_hash': ground_truth_hash(c['sha256'] for c in clean) if clean else None,
        'split': None if split is None else {k: len(v) for k, v in split.items()},
        'skipped': len(manifest['skipped']),
        'converted': sum('converted' in e for e in rainy + clean),
        'excluded': len(manifest.get('excluded', [])),
        'psnr_y': float(np.mean(psnr)) if psnr else None,
        'ssim_y': float(np.mean(ssim)) if ssim else None,
        'identical_pairs': len(metrics) - len(psnr),
        'measured_pairs': len(metrics),
        'pairing': pairing,
        'storage': attrs.get('storage', 'raw'),
        'protocol': {'text': PROTOCOL, **build_protocol('mprnet_matlab').conventions()},
        'duplicates': {'compared': 'clean' if role == 'gt' else 'rainy',
                       'threshold': fpm.THRESHOLD, 'pairs': duplicates},
        'provenance': {'packed_from': attrs['source'], 'command': attrs.get('command', ''),
                       'created': attrs.get('created'), **provenance},
        'images': [{'name': r['name'], 'sha256': r['sha256'],
                    'clean_sha256': None if r['clean'] is None else clean[r['clean']]['sha256']}
                   for r in rainy],
    }


def dataset_card(path: str | Path) -> dict:
    """The stored card of a packed file, or one computed now for files packed without it."""
    packed = fmt.PackedFile(path)
    try:
        card = packed.card
        if card is not None:
            return card
        fps = read_packed_fingerprints(packed) or compute_packed_fingerprints(packed)
        paired = [i for i, r in enumerate(packed.manifest['rainy']) if r['clean'] is not None]
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


def card_markdown(card: dict) -> str:
    """The card as Markdown (for a paper's supplement); per-image hashes in a details block."""
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
              for i in card['images']]
    lines += ['', '</details>', '']
    return '\n'.join(lines)

