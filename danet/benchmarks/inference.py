"""The runs behind ``tools/benchmark_inference.py``: the generators timed side by side
(``danet.benchmarks.latency``), or ours ÷ the authors' DANet re-stated, interleaved per image
between two worker processes (``danet.benchmarks.ab``); the engine's options against the fp32
engine (``danet.benchmarks.options``); ours and the reference's time per op
(``danet.benchmarks.op_profile``)."""
import os
from pathlib import Path

from danet.benchmarks.latency import format_report, peak_memory, time_models, to_json
from danet.utils.fileio import atomic_write_text


def inference_benchmark(models: list[str], shapes=None, warmup: int | None = None,
                        repeats: int | None = None, compile: bool = False,
                        peak_shape=(3072, 2048), peak_tile: int | None = 1024,
                        out: str | None = None) -> dict:
    """Time ``models`` at ``shapes`` (default 256x256, 320x480; 1 warm-up, 5 timed calls), then
    DANet's peak memory at ``peak_shape`` (``peak_shape=None`` skips it); print, write ``out``."""
    report = time_models(models, shapes or [(256, 256), (320, 480)],
                         1 if warmup is None else warmup, repeats or 5, compile)
    if peak_shape:
        report['peak_memory'] = peak_memory('danet', *peak_shape, peak_tile or None)
    print(format_report(report))
    if out:
        atomic_write_text(out, to_json(report))
    return report


def reference_benchmark(weights, shapes=None, threads=(1, 2), warmup: int | None = None,
                        repeats: int | None = None, out: str | None = None,
                        models=('danet',)) -> list[dict]:
    """Ours ÷ the re-stated authors' code for each of ``models`` (official-format ``weights``:
    one path, or ``{model: path}``) per shape (default 256x256, 320x480, 512x512; 2 warm-up, 7
    timed calls) and thread count."""
    from danet.benchmarks.ab import reference_benchmark as run
    return run(weights, shapes or [(256, 256), (320, 480), (512, 512)], threads,
               2 if warmup is None else warmup, repeats or 7, out, models=models)


def options_benchmark(models: list[str], options, shapes=None, threads: int = 1,
                      warmup: int | None = None, repeats: int | None = None,
                      out: str | None = None) -> list[dict]:
    """Each engine option against the fp32 engine per model and shape (default 320x480; 2
    warm-up rounds, 7 timed calls each), in this process under the memory policy."""
    import torch

    from danet.benchmarks.latency import build_generator
    from danet.benchmarks.options import OPTIONS_TABLE, measure_options
    from danet.utils.memory import keep_freed_memory
    torch.set_num_threads(threads)
    keep_freed_memory()
    print(f'load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)')
    print(OPTIONS_TABLE.header())
    rows = []
    for name in models:
        for shape in shapes or [(320, 480)]:
            rows += [dict(row, model=name) for row in measure_options(
                build_generator(name), options, shape, 2 if warmup is None else warmup,
                repeats or 7)]
    if out:
        atomic_write_text(out, to_json(dict(rows=rows)))
    return rows


def profile_benchmark(weights: Path, shapes=None, threads: int = 1, repeats: int | None = None,
                      out: str | None = None, model: str = 'danet') -> dict:
    """Self time per op of our ``model``'s forward and the reference's at the first shape
    (default 320x480), ``repeats`` (default 3) forwards each."""
    from danet.benchmarks.op_profile import compare_profiles, format_profiles
    shape = (shapes or [(320, 480)])[0]
    load = os.getloadavg()[0]
    result = compare_profiles(str(weights), shape, threads, repeats or 3, model)
    print(f'{model} {shape[0]}x{shape[1]}, {threads} thread(s), load {load:.2f}-'
          f'{os.getloadavg()[0]:.2f}')
    print(format_profiles(result))
    if out:
        atomic_write_text(out, to_json(result))
    return result
