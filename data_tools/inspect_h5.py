"""Summarise a packed file: counts, size histogram, content hash, rainy-vs-clean PSNR/SSIM (Y)."""
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm

from danet.datasets import h5format as fmt
from danet.evaluation.functional import calculate_psnr, calculate_ssim


def inspect_packed(path: str | Path) -> dict:
    """Counts, ``sizes`` (``'WxH'`` → rainy count), content hash, split sizes, skipped files and
    the mean Y-channel PSNR/SSIM of each rainy image against its clean image (None if unpaired)."""
    packed = fmt.PackedFile(path)
    manifest = packed.manifest
    sizes = Counter(f'{w}x{h}' for h, w in (r['shape'] for r in manifest['rainy']))
    psnr, ssim = [], []
    paired = [i for i, r in enumerate(manifest['rainy']) if r['clean'] is not None]
    for i in tqdm(paired, desc=f'inspect {Path(path).name}', unit='pair'):
        rainy, clean = np.asarray(packed.rainy(i)[()]), np.asarray(packed.clean(i)[()])
        psnr.append(calculate_psnr(rainy, clean, color_space='y'))
        ssim.append(calculate_ssim(rainy, clean, color_space='y'))
    packed.close()
    split = manifest['split']
    return {
        'path': str(path), 'layout': packed.attrs['layout'], 'source': packed.attrs['source'],
        'rainy': len(manifest['rainy']), 'clean': len(manifest['clean']), 'paired': len(paired),
        'sizes': dict(sizes.most_common()), 'content_hash': packed.content_hash,
        'ground_truth_hash': packed.ground_truth_hash,
        'split': None if split is None else {k: len(v) for k, v in split.items()},
        'skipped': len(manifest['skipped']),
        'converted': sum('converted' in e for e in manifest['rainy'] + manifest['clean']),
        'psnr_y': float(np.mean(psnr)) if psnr else None,
        'ssim_y': float(np.mean(ssim)) if ssim else None,
    }
