"""Re-hash every image of a packed file (or of a sharded set, through its index) and compare
with its manifest."""
import itertools
from pathlib import Path

import numpy as np
from tqdm import tqdm

from danet.datasets import h5format as fmt
from danet.datasets.manifest import content_hash
from danet.utils.hashing import pixel_hash


def verify(path: str | Path) -> list[tuple[str, str]]:
    """Return ``(image, reason)`` for every image whose pixels no longer match the manifest
    (or that cannot be read), plus a content-hash mismatch if the manifest was altered."""
    packed = fmt.PackedFile(path)
    manifest, bad = packed.manifest, []
    items = itertools.chain(
        ((packed.lq_group, packed.rainy, i, e) for i, e in enumerate(manifest.rows('rainy'))),
        ((packed.gt_group, packed.clean_image, i, e)
         for i, e in enumerate(manifest.rows('clean'))))
    for kind, read, index, entry in tqdm(items, desc=f'verify {Path(path).name}', unit='img',
                                         total=manifest.num_rainy + manifest.num_clean):
        label = f'{kind}/{fmt.image_key(index)} ({entry["path"]})'
        try:
            img = np.asarray(read(index)[()])
        except Exception as err:  # a corrupt chunk surfaces as any h5py/OS error
            bad.append((label, f'unreadable: {err}'))
            continue
        if pixel_hash(img) != entry['sha256']:
            bad.append((label, 'pixel hash differs from the manifest'))
    if content_hash(manifest) != packed.content_hash:
        bad.append(('content_hash', 'manifest does not match the stored content hash'))
    packed.close()
    return bad
