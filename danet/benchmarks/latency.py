"""Inference benchmark: latency, MACs, achieved MAC rate against the machine's matmul rate, and
peak memory of one large image, all measured side by side in one process run.

Used by ``tools/benchmark_inference.py``; see ``docs/inference.md`` for measured figures.
"""
import json
import statistics
import subprocess
import sys
import time

import torch
from tqdm import tqdm

from danet.benchmarks.rows import Table, shape_cell
from danet.engine.inference import InferenceEngine
from danet.engine.tiling import tiled_forward
from danet.models.base import generators
from danet.models.converters import build_generator as build_any
from danet.utils.complexity import complexity_report
from danet.utils.memory import keep_freed_memory

GENERATORS = generators()  # lower-case name -> every generator registered in MODELS


def median_seconds(fn, warmup: int = 1, repeats: int = 5) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_gmacs_per_second(n: int = 2048, warmup: int = 1, repeats: int = 5) -> float:
    """fp32 ``torch.mm`` of two n×n matrices (n³ MACs), timed like the models."""
    a, b = torch.rand(n, n), torch.rand(n, n)
    return n ** 3 / median_seconds(lambda: torch.mm(a, b), warmup, repeats) / 1e9


def is_config(name: str) -> bool:
    """Whether a ``--models`` entry is a config file (a plug-in's included), not a generator."""
    return name.endswith('.py')


def build_generator(name: str) -> torch.nn.Module:
    """A registered generator by lower-case name, or a config file's ``model.generator``, in
    eval mode without gradients (``danet.models.converters.build_generator`` builds both)."""
    built = build_any(config=name) if is_config(name) else build_any(arch=name)
    return built.eval().requires_grad_(False)


def plain_forward(generator):
    """The reference path: eval mode, ``torch.no_grad``, contiguous tensors."""
    def forward(x):
        with torch.no_grad():
            return generator(x)
    return forward


def time_models(models: list[str], shapes: list[tuple[int, int]], warmup: int = 1,
                repeats: int = 5, compile: bool = False) -> dict:
    """Latency of each model/shape on the plain path and the fast path (and compiled, if asked)."""
    rate = matmul_gmacs_per_second(warmup=warmup, repeats=repeats)
    rows = []
    jobs = [(m, s) for m in models for s in shapes]
    for name, (h, w) in tqdm(jobs, desc='benchmark'):
        x = torch.rand(1, 3, h, w)
        gmacs = complexity_report(build_generator(name), shape=(3, h, w))['gmacs']
        paths = {'plain': plain_forward(build_generator(name)),
                 'fast': InferenceEngine(build_generator(name))}
        if compile:
            paths['compiled'] = InferenceEngine(build_generator(name), compile=True)
        for path, fn in paths.items():
            seconds = median_seconds(lambda fn=fn, x=x: fn(x), warmup, repeats)
            rows.append(dict(model=name, shape=[h, w], path=path, latency_ms=1000 * seconds,
                             gmacs=gmacs, gmacs_per_s=gmacs / seconds,
                             fraction_of_matmul=gmacs / seconds / rate))
    ratios = {}
    if {'danet', 'mprnet'} <= set(models):
        for row in rows:
            if row['model'] == 'danet':
                other = next(r for r in rows if r['model'] == 'mprnet'
                             and r['shape'] == row['shape'] and r['path'] == row['path'])
                key = f'{row["shape"][0]}x{row["shape"][1]}/{row["path"]}'
                ratios[key] = row['latency_ms'] / other['latency_ms']
    return dict(matmul_gmacs_per_s=rate, threads=torch.get_num_threads(), torch=torch.__version__,
                warmup=warmup, repeats=repeats, rows=rows, danet_over_mprnet=ratios)


def derain_large_image(name: str, height: int, width: int, tile: int | None,
                       overlap: int = 32) -> None:
    """One engine inference of a random ``height``×``width`` image (tiled if ``tile``), under
    the tools' memory policy (``keep_freed_memory``; ``DANET_MALLOC=default`` turns it off)."""
    keep_freed_memory()
    fast = InferenceEngine(build_generator(name))
    x = torch.rand(1, 3, height, width)
    if tile:
        tiled_forward(fast.final, x, tile, overlap, fast.size_divisor, progress=True)
    else:
        fast.final(x)


def peak_memory(name: str, height: int, width: int, tile: int | None, overlap: int = 32) -> dict:
    """Peak resident memory (``VmHWM``) of ``derain_large_image`` in a fresh subprocess (which
    inherits ``DANET_MALLOC``)."""
    code = ('import sys; from danet.benchmarks.latency import derain_large_image; '
            f'derain_large_image({name!r}, {height}, {width}, {tile!r}, {overlap}); '
            "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0])")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f'peak-memory run of {name} at {height}x{width} failed:\n'
                           f'{result.stderr[-2000:]}')
    kib = int(result.stdout.strip().split()[-2])
    return dict(model=name, shape=[height, width], tile=tile, overlap=overlap,
                peak_rss_gib=kib / 2 ** 20, seconds=time.perf_counter() - start)


LATENCY_TABLE = Table(('<model', 8, 'model:'), ('shape', 9, shape_cell), ('path', 8, 'path:'),
                      ('ms', 9, 'latency_ms:.1f'), ('GMACs', 8, 'gmacs:.2f'),
                      ('GMAC/s', 8, 'gmacs_per_s:.1f'),
                      ('of mm', 6, lambda r: f'{100 * r["fraction_of_matmul"]:.0f}%'))


def format_report(report: dict) -> str:
    lines = [f'fp32 matmul rate: {report["matmul_gmacs_per_s"]:.1f} GMAC/s '
             f'({report["threads"]} threads, torch {report["torch"]})', LATENCY_TABLE.header()]
    lines += [LATENCY_TABLE.row(r) for r in report['rows']]
    lines += [f'DANet/MPRNet latency {k}: {v:.3f}' for k, v in report['danet_over_mprnet'].items()]
    if 'peak_memory' in report:
        p = report['peak_memory']
        lines.append(f'peak RSS {p["model"]} {p["shape"][0]}x{p["shape"][1]} tile={p["tile"]}: '
                     f'{p["peak_rss_gib"]:.2f} GiB ({p["seconds"]:.0f} s)')
    return '\n'.join(lines)


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2) + '\n'
