"""The engine's switchable options, each timed against the plain fp32 engine in one process.

``measure_options(generator, options, shape)``: for each option (``compile``: ``torch.compile``,
inductor; ``bf16``: CPU autocast to bfloat16; ``onnxruntime``: the exported graph on ONNX
Runtime's CPU provider) the first call (compilation, export + session), then calls alternating
between the fp32 engine and the option (A/B, B/A, ...) after ``warmup`` rounds, the median of
``repeats`` each, and the largest output difference from the fp32 engine. Used by
``tools/benchmark_inference.py --options``; figures in ``docs/inference.md``.
"""
import copy
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from danet.apis.export import export_onnx, onnx_session
from danet.benchmarks.rows import Table, interleaved, load_cell, shape_cell, timed
from danet.engine.inference import InferenceEngine

OPTIONS = ('compile', 'bf16', 'onnxruntime')
TOLERANCE = 1e-4  # max |option - fp32 engine| for an option to be safe as a default


def _option(generator: nn.Module, name: str, tmp: Path):
    """``fn(x) -> final image`` running ``generator`` (a copy) with option ``name``."""
    if name == 'compile':
        return InferenceEngine(generator, compile=True).final
    if name == 'bf16':
        return InferenceEngine(generator, bf16=True).final
    if name == 'onnxruntime':
        path = export_onnx(generator, tmp / 'generator.onnx')
        session = onnx_session(path, torch.get_num_threads())
        return lambda x: torch.from_numpy(session.run(None, {'image': x.numpy()})[0])
    raise ValueError(f'unknown option {name!r}; choose from {", ".join(OPTIONS)}')


def measure_options(generator: nn.Module, options, shape=(320, 480), warmup: int = 2,
                    repeats: int = 7, progress=print) -> list[dict]:
    """One row per option: first-call seconds, median ms of the engine and of the option
    (interleaved), engine ÷ option (the speed-up), max |option − engine|, load average."""
    x = torch.rand(1, 3, *shape, generator=torch.Generator().manual_seed(0))
    engine = InferenceEngine(copy.deepcopy(generator)).final
    reference = engine(x)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in options:
            start = time.perf_counter()
            option = _option(copy.deepcopy(generator), name, Path(tmp))
            diff = float((option(x).float() - reference).abs().max())
            first = time.perf_counter() - start  # preparing (compiling, exporting) + first call
            result = interleaved({'engine': timed(lambda: engine(x)),
                                  'option': timed(lambda o=option: o(x))}, warmup, repeats)
            row = dict(option=name, shape=list(shape), threads=torch.get_num_threads(),
                       first_call_s=first,
                       engine_ms=1000 * result['engine']['seconds'],
                       option_ms=1000 * result['option']['seconds'],
                       max_abs_diff=diff, within_tolerance=diff <= TOLERANCE,
                       load_start=result['load_start'], load_end=result['load_end'])
            row['speedup'] = row['engine_ms'] / row['option_ms']
            rows.append(row)
            progress(OPTIONS_TABLE.row(row))
    return rows


OPTIONS_TABLE = Table(('option', 11, 'option:'), ('shape', 9, shape_cell), ('thr', 3, 'threads:'),
                      ('first s', 8, 'first_call_s:.1f'), ('engine ms', 9, 'engine_ms:.1f'),
                      ('option ms', 9, 'option_ms:.1f'),
                      ('speed-up', 8, lambda r: f'{r["speedup"]:.2f}x'),
                      ('max diff', 9, 'max_abs_diff:.2e'), ('load', 9, load_cell))
