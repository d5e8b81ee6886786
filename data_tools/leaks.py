"""Duplicate backgrounds within datasets and leaks between them (``data_tools leaks``).

Each set is compared through its backgrounds: clean/target images, or the rainy images of a
rainy-only set (said so in the report). Fingerprints come from ``danet.datasets.fingerprint_store``
(cached); every reported pair is then aligned on its pixels: horizontal flip, scale (B's size over
A's) and the offset (dx, dy) of B within A, in A's pixels, from phase correlation.
"""
import time
from pathlib import Path

import cv2
import numpy as np

from danet.datasets import fingerprint as fpm
from danet.datasets import h5format as fmt
from danet.datasets.fingerprint_store import load_fingerprints
from danet.datasets.image_files import decode_rgb

CROP_ONLY = 0.05


def _image(source: Path, fps: fpm.FingerprintSet, index: int, readers: dict) -> np.ndarray:
    """Image ``index`` of a set; ``readers`` keeps one reader per packed set (manifest parsed
    once for the whole report)."""
    if source.is_dir():
        return decode_rgb(source / fps.names[index], convert=True)[0]
    if source not in readers:
        readers[source] = fmt.PackedFile(source)
    packed = readers[source]
    lazy = packed.clean_image(index) if fps.role == 'gt' else packed.rainy(index)
    return np.asarray(lazy[()])


def align(a: np.ndarray, b: np.ndarray, flip: bool) -> dict:
    """How ``b`` sits on ``a``: ``flip``, ``scale`` (b's size over a's) and ``offset`` [dx, dy]
    of b's top-left corner in a's pixels (phase correlation). Size differences under
    ``CROP_ONLY`` are taken as crops; larger ones are undone by resizing b first."""
    gray_a = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gray_b = cv2.cvtColor(b[:, ::-1] if flip else b, cv2.COLOR_RGB2GRAY).astype(np.float32)
    (ha, wa), (hb, wb) = gray_a.shape, gray_b.shape
    scale = (wb / wa + hb / ha) / 2
    if abs(scale - 1) > CROP_ONLY:
        gray_b = cv2.resize(gray_b, (round(wb / scale), round(hb / scale)),
                            interpolation=cv2.INTER_AREA)
    h, w = min(gray_a.shape[0], gray_b.shape[0]), min(gray_a.shape[1], gray_b.shape[1])
    window = cv2.createHanningWindow((w, h), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(gray_a[:h, :w], gray_b[:h, :w], window)
    return {'flip': flip, 'scale': round(scale, 3),
            'offset': [round(-dx, 1) + 0.0, round(-dy, 1) + 0.0]}  # + 0.0 turns -0.0 into 0.0


def check_threshold(threshold: float) -> float:
    """``threshold`` if it is a cosine similarity in (0, 1], else ``ValueError`` saying why."""
    if not 0 < threshold <= 1:  # nan fails both comparisons
        raise ValueError(f'--threshold {threshold}: a cosine similarity in (0, 1] is needed '
                         f'(calibrated default {fpm.THRESHOLD}; see docs/datasets.md)')
    return threshold


def find_leaks(sources: list[str | Path], layout: str = 'pairs',
               threshold: float = fpm.THRESHOLD, workers: int | None = None,
               cache_in_place: bool = False) -> dict:
    """The JSON report: ``sets`` (label, path, role, images), ``duplicates`` within each set,
    ``leaks`` across sets (every pair of sets), ``notes`` and the fingerprint parameters.
    Inputs are only read; ``cache_in_place`` stores fingerprints into packed files lacking
    them (see ``fingerprint_store``)."""
    check_threshold(threshold)
    sources = [Path(s) for s in sources]
    for source in sources:
        if not source.exists():
            raise FileNotFoundError(f'dataset not found: {source} (give a packed .h5 or a folder)')
    seen = {}
    for source in sources:
        if source.resolve() in seen:
            raise ValueError(f'{source} is given twice (as {seen[source.resolve()]}): every '
                             'image would be reported as leaking into itself; duplicates '
                             'within one set are found by giving it once')
        seen[source.resolve()] = source
    start = time.perf_counter()
    sets = [load_fingerprints(s, layout, workers=workers, cache_in_place=cache_in_place)
            for s in sources]
    loaded = time.perf_counter()
    labels = _unique_labels(sources)
    report = {'threshold': threshold,
              'fingerprint': {'version': fpm.VERSION, 'work': fpm.WORK, 'erode': fpm.ERODE,
                              'grid': fpm.GRID},
              'sets': [{'label': lab, 'path': str(s), 'role': f.role, 'images': len(f)}
                       for lab, s, f in zip(labels, sources, sets, strict=True)],
              'notes': [f'{lab}: no clean images, its rainy images were compared'
                        for lab, f in zip(labels, sets, strict=True) if f.role == 'lq'],
              'duplicates': [], 'leaks': []}
    found = [('duplicates', k, k, fpm.match(sets[k].fps, threshold=threshold))
             for k in range(len(sets))]
    found += [('leaks', k, m, fpm.match(sets[k].fps, sets[m].fps, threshold))
              for k in range(len(sets)) for m in range(k + 1, len(sets))]
    matched = time.perf_counter()
    readers: dict = {}
    try:
        for kind, k, m, pairs in found:
            report[kind] += [_row((labels[k], sources[k], sets[k], i),
                                  (labels[m], sources[m], sets[m], j), sim, flip, readers)
                             for i, j, sim, flip in pairs]
    finally:
        for packed in readers.values():
            packed.close()
    report['timing'] = {'images': sum(len(f) for f in sets),
                        'fingerprints_s': round(loaded - start, 2),
                        'match_s': round(matched - loaded, 3),
                        'align_s': round(time.perf_counter() - matched, 2)}
    return report


def _unique_labels(sources: list[Path]) -> list[str]:
    labels = [s.stem if s.is_file() else s.name for s in sources]
    return [lab if labels.count(lab) == 1 else str(s) for lab, s in
            zip(labels, sources, strict=True)]


def _row(a: tuple, b: tuple, sim: float, flip: bool, readers: dict) -> dict:
    """One reported pair; ``a``, ``b``: (label, source, fingerprints, index)."""
    (label_a, src_a, fps_a, i), (label_b, src_b, fps_b, j) = a, b
    return {'set_a': label_a, 'a': fps_a.names[i], 'set_b': label_b, 'b': fps_b.names[j],
            'similarity': round(sim, 4),
            **align(_image(src_a, fps_a, i, readers), _image(src_b, fps_b, j, readers), flip)}


def format_table(report: dict) -> str:
    """The report as a fixed-width table, duplicates then leaks, with a summary line."""
    lines = [f'{s["label"]}: {s["images"]} {"clean" if s["role"] == "gt" else "rainy"} images '
             f'({s["path"]})' for s in report['sets']]
    lines += [f'note: {n}' for n in report['notes']]
    rows = [('kind', 'set A', 'image A', 'set B', 'image B', 'similarity', 'alignment')]
    for kind in ('duplicates', 'leaks'):
        for r in report[kind]:
            how = (f'{"flip " if r["flip"] else ""}scale {r["scale"]:g} '
                   f'offset ({r["offset"][0]:g}, {r["offset"][1]:g})')
            rows.append((kind[:-1], r['set_a'], r['a'], r['set_b'], r['b'],
                         f'{r["similarity"]:.3f}', how))
    if len(rows) > 1:
        widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
        lines += ['  '.join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
                  for row in rows]
    timing = report['timing']
    lines.append(f'{len(report["duplicates"])} duplicate pair(s) within sets, '
                 f'{len(report["leaks"])} leaking pair(s) across sets '
                 f'(threshold {report["threshold"]}); {timing["images"]} images: fingerprints '
                 f'{timing["fingerprints_s"]} s (cached after the first run), matching '
                 f'{timing["match_s"]} s, alignment {timing["align_s"]} s')
    return '\n'.join(lines)
