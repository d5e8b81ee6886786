"""The zoo's complexity table: parameters, MACs at one named size (attention matrix products
included) and CPU latency of every registered generator, measured in one process.

MACs come from ``danet.utils.complexity.complexity_report`` (fvcore): convolutions, linear layers,
norms and every ``matmul``/``bmm``/``einsum`` (attention's Q·Kᵀ and A·V) are counted;
softmax, activations and top-k selection are not. Latency: the plain path (eval, ``no_grad``)
on a random 1×3×H×W input, the models timed round-robin (``danet.benchmarks.rows.interleaved``)
so load changes hit them alike. Rendered by ``analysis.tables.zoo_complexity_table``
(``tools/zoo_complexity.py`` writes Markdown, CSV and LaTeX); the measuring lives here, not in
``analysis``, because it builds and runs the models.
"""
from functools import partial
from pathlib import Path

import torch
from tqdm import tqdm

from danet.benchmarks.latency import build_generator, is_config, plain_forward
from danet.benchmarks.rows import interleaved, timed
from danet.models import generators
from danet.utils.complexity import complexity_report, count_parameters

MATMUL_OPS = ('aten::matmul', 'aten::bmm', 'aten::einsum', 'aten::mm')


def zoo_models(configs: list[str] = ()) -> list[str]:
    """Every generator registered before ``configs`` are loaded, by lower-case name, then the
    configs (a plug-in's generator, registered by its config's ``custom_imports``, appears once:
    built from its config)."""
    return list(generators()) + list(configs)


def zoo_complexity(models: list[str], height: int = 256, width: int = 256, warmup: int = 1,
                   repeats: int = 5) -> dict:
    """One row per model (``label``, ``params``, ``gmacs``, ``matmul_gmacs``, ``latency_ms``)
    and how it was measured (size, threads, load average, torch version)."""
    rows, calls = [], {}
    x = torch.rand(1, 3, height, width)
    for name in tqdm(models, desc='counting'):
        generator = build_generator(name)
        report = complexity_report(generator, shape=(3, height, width))
        label = Path(name).stem if is_config(name) else name
        matmul = sum(report['counted_ops'].get(op, {}).get('macs', 0) for op in MATMUL_OPS)
        rows.append(dict(label=label, model=report['model'],
                         params=count_parameters(generator, trainable_only=False),
                         gmacs=report['gmacs'], matmul_gmacs=matmul / 1e9,
                         uncounted_ops=sorted(report['unsupported_ops'])))
        calls[label] = timed(partial(plain_forward(generator), x))
    timing = interleaved(calls, warmup, repeats)
    for row in rows:
        row['latency_ms'] = 1000 * timing[row['label']]['seconds']
    return dict(shape=[height, width], threads=torch.get_num_threads(), torch=torch.__version__,
                warmup=warmup, repeats=repeats, load_start=timing['load_start'],
                load_end=timing['load_end'], rows=rows)
