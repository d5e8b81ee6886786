"""The engine's switchable options, each timed against the plain fp32 engine in one process.

``measure_options(generator, options, shape)``: for each option (``compile``: ``torch.compile``,
inductor; ``bf16``: CPU autocast to bfloat16; ``onnxruntime``: the exported graph on ONNX
Runtime's CPU provider) the first call (compilation, export + session), then calls alternating
between the fp32 engine and the option (A/B, B/A, ...) after ``warmup`` rounds, the median of
``repeats`` each, and the largest output difference from the fp32 engine. Used by
``tools/benchmark_inference.py --options``; figures in ``docs/inference.md``.
"""
import copy
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from danet.apis.export import export_onnx, onnx_session
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
            load = os.getloadavg()[0]
            times = {'engine': [], 'option': []}
            pair = [('engine', engine), ('option', option)]
            for r in range(warmup + repeats):
                for side, fn in (pair if r % 2 == 0 else pair[::-1]):
                    start = time.perf_counter()
                    fn(x)
                    if r >= warmup:
                        times[side].append(time.perf_counter() - start)
            row = dict(option=name, shape=list(shape), threads=torch.get_num_threads(),
                       first_call_s=first,
                       engine_ms=1000 * statistics.median(times['engine']),
                       option_ms=1000 * statistics.median(times['option']),
                       max_abs_diff=diff, within_tolerance=diff <= TOLERANCE,
                       load_start=load, load_end=os.getloadavg()[0])
            row['speedup'] = row['engine_ms'] / row['option_ms']
            rows.append(row)
            progress(format_option_row(row))
    return rows


OPTIONS_HEADER = (f'{"option":>11} {"shape":>9} {"thr":>3} {"first s":>8} {"engine ms":>9} '
                  f'{"option ms":>9} {"speed-up":>8} {"max diff":>9} {"load":>9}')


def format_option_row(r: dict) -> str:
    return (f'{r["option"]:>11} {r["shape"][0]:>4}x{r["shape"][1]:<4} {r["threads"]:>3} '
            f'{r["first_call_s"]:8.1f} {r["engine_ms"]:9.1f} {r["option_ms"]:9.1f} '
            f'{r["speedup"]:7.2f}x {r["max_abs_diff"]:9.2e} '
            f'{r["load_start"]:4.1f}-{r["load_end"]:<4.1f}')
