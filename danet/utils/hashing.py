"""Content hashes of decoded images, shared by the packed format and the results files."""
import hashlib
import json

import numpy as np


def pixel_hash(img: np.ndarray) -> str:
    """SHA-256 of decoded pixels: the shape, then the C-ordered uint8 bytes."""
    digest = hashlib.sha256(repr(tuple(img.shape)).encode())
    digest.update(np.ascontiguousarray(img, dtype=np.uint8).tobytes())
    return digest.hexdigest()


def ground_truth_hash(pixel_hashes) -> str:
    """Hash of a test set's ground truth: its distinct clean images' pixel hashes, sorted.

    Results files carry it as ``dataset_hash``; ``tools/test.py`` (from the images it scores)
    and ``tools/eval_folder.py`` (from the GT folder) compute it the same way, so scores of our
    runs and of other methods' released images are comparable exactly when they share it.
    """
    return hashlib.sha256(json.dumps(sorted(set(pixel_hashes))).encode()).hexdigest()


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes, read in 4 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 22), b''):
            digest.update(block)
    return digest.hexdigest()
