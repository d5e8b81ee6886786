"""Ours ÷ the authors' code, measured side by side: one worker process per side, calls interleaved.

The reference side is ``danet.benchmarks.reference.ReferenceDANet`` (the authors' DANet
re-stated) or, for the PReNet family, ``ReferencePReNet`` (their ``networks.py`` classes
re-stated), in a process with PyTorch's and glibc's defaults, called the way their test script
does (uint8 → float, ``no_grad`` forward, clamp, round or, PReNet, truncate to uint8). Our side
applies
``danet.utils.memory.keep_freed_memory`` and runs the same weights (converted) through the
``InferenceEngine``: ``derain`` (what ``tools/derain.py`` does per image) and ``predict`` (the test
loop's call per dataset item). The parent alternates single calls between the workers (A/B, B/A,
...), so load spikes hit both sides alike, and reports the median of ``repeats`` per path after
``warmup`` untimed calls (wall and CPU time), with minor page faults per call, the load average
and each side's achieved MAC rate as a fraction of its own process's fp32 2048² matmul rate
(timed in the same interleaved rounds).
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from danet.benchmarks.reference import PRENET_ARCHS
from danet.benchmarks.rows import Table, interleaved, load_cell, shape_cell
from danet.config_refs import shipped_config
from danet.utils.fileio import atomic_write_json
from danet.utils.memory import keep_freed_memory, minor_faults

TRAIN_CONFIG = str(shipped_config('danet::danet/danet_1xb16-1000e_rain13k.py'))

INFERENCE = {'ours': ('derain', 'predict'), 'reference': 'reference'}
# models with a re-stated reference (lower-case registered names)
REFERENCE_MODELS = ('danet', *(name.lower() for name in PRENET_ARCHS))
TRAINING = {'ours': ('train', 'train_cl'), 'reference': 'reference_train'}


def _image(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _batch(batch: int, crop: int) -> list[np.ndarray]:
    """``batch`` rainy crops, then their ``batch`` targets."""
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (crop, crop, 3), dtype=np.uint8) for _ in range(2 * batch)]


def _model(weights: dict, **kwargs):
    from mmengine.config import Config

    from danet.models.danet.official import from_official
    from danet.registry import MODELS
    model = MODELS.build(dict(Config.fromfile(TRAIN_CONFIG).model, **kwargs))
    model.generator.load_state_dict(from_official(weights))
    return model


def _prenet_model(weights: dict, model: str):
    from danet.models.base import generators
    from danet.registry import MODELS
    derain_model = MODELS.build(dict(type='DerainModel',
                                     generator=dict(type=generators()[model])))
    generator = derain_model.generator
    generator.load_state_dict(generator.official_keys(weights))
    return derain_model


def _matmul(n: int = 2048):
    a, b = torch.rand(n, n), torch.rand(n, n)
    return lambda image: torch.mm(a, b)


def _ours(weights: dict, model: str = 'danet'):
    from danet.apis.inference import derain
    from danet.engine.inference import InferenceEngine
    engine = InferenceEngine(_model(weights) if model == 'danet' else _prenet_model(weights, model))

    def predict(image):
        chw = torch.from_numpy(image).permute(2, 0, 1)
        return engine.predict(dict(inputs=[chw]))[0].pred_img
    return {'derain': lambda image: derain(engine, image), 'predict': predict,
            'train': _train_step(weights, False), 'train_cl': _train_step(weights, True),
            'matmul': _matmul()}


def _train_step(weights: dict, channels_last: bool):
    """The platform's step: data preprocessor, every loss term, the config's optimiser."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper

    from danet.structures import DerainSample
    state = {}

    def step(images):
        if not state:  # built on first use: only the paths asked for hold a model
            model = _model(weights, channels_last=channels_last).train()
            if channels_last:   # as DerainRunner prepares a channels-last model
                from danet.engine.rewrites import rewrite_kernels
                rewrite_kernels(model.generator)
            optim = build_optim_wrapper(model, Config.fromfile(TRAIN_CONFIG).optim_wrapper)
            state.update(model=model, optim=optim)
        half = len(images) // 2
        data = dict(inputs=[torch.from_numpy(i).permute(2, 0, 1) for i in images[:half]],
                    data_samples=[DerainSample(gt_img=torch.from_numpy(i).permute(2, 0, 1))
                                  for i in images[half:]])
        state['model'].train_step(data, state['optim'])
    return step


def _reference_prenet(weights: dict, model: str):
    from danet.benchmarks.reference import ReferencePReNet
    from danet.models.base import generators
    net = ReferencePReNet(weights, generators()[model])

    def run(image):  # test_PReNet.py: clamp, np.uint8(255 * out) truncates
        x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():
            out = net(x)[0].clamp(0, 1)
        return np.uint8(255 * out[0].numpy()).transpose(1, 2, 0)
    return {'reference': run, 'matmul': _matmul()}


def _reference(weights: dict, model: str = 'danet'):
    from danet.benchmarks.reference import ReferenceDANet, reference_train_step
    if model != 'danet':
        return _reference_prenet(weights, model)
    net = ReferenceDANet(weights)

    def run(image):
        x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():
            out = net(x)[0].clamp(0, 1)
        return (out[0] * 255).round().byte().permute(1, 2, 0).numpy()

    trainable = ReferenceDANet(weights, requires_grad=True)
    train = reference_train_step(trainable, torch.optim.Adam(trainable.parameters(), lr=2e-4))
    tensors = {}

    def train_step(images):  # the authors' loader hands over float tensors
        key = id(images)
        if key not in tensors:
            stacked = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
            tensors[key] = stacked.chunk(2)
        train(*tensors[key])
    return {'reference': run, 'reference_train': train_step, 'matmul': _matmul()}


def worker(side: str, threads: int, weights_path: str, model: str = 'danet') -> None:
    """Answer one JSON line per request line ``{"path": ..., "shape": [h, w]}`` on stdin."""
    torch.set_num_threads(threads)
    if side == 'ours':
        keep_freed_memory()
    weights = torch.load(weights_path, map_location='cpu', weights_only=True)
    weights = weights.get('state_dict', weights)
    from mmengine.registry import init_default_scope
    init_default_scope('danet')
    paths = _ours(weights, model) if side == 'ours' else _reference(weights, model)
    images = {}
    for line in sys.stdin:
        request = json.loads(line)
        shape = tuple(request['shape'])
        training = request['path'] in (*TRAINING['ours'], TRAINING['reference'])
        if (training, shape) not in images:
            images[training, shape] = _batch(*shape) if training else _image(*shape)
        image = images[training, shape]
        faults, start, cpu = minor_faults(), time.perf_counter(), time.process_time()
        paths[request['path']](image)
        print(json.dumps(dict(seconds=time.perf_counter() - start,
                              cpu_seconds=time.process_time() - cpu,
                              faults=minor_faults() - faults)), flush=True)


class _Worker:
    def __init__(self, side: str, threads: int, weights: str, model: str = 'danet'):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        if side == 'reference':
            env['DANET_MALLOC'] = 'default'
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'danet.benchmarks.ab', side, str(threads), weights, model],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def call(self, path: str, shape) -> dict:
        self.proc.stdin.write(json.dumps(dict(path=path, shape=list(shape))) + '\n')
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f'benchmark worker for {path} died (exit {self.proc.wait()})')
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def compare(weights: str, shapes, threads=(1, 2), warmup: int = 2, repeats: int = 7,
            progress=print, paths: dict = INFERENCE, model: str = 'danet') -> list[dict]:
    """One row per thread count × shape × our path: medians, ratio to the reference, faults;
    for inference also each side's fraction of its matmul rate (``of_mm``).
    ``paths``: ``INFERENCE`` (shapes are H, W) or ``TRAINING`` (shapes are batch, crop)."""
    rows = []
    for n in threads:
        ours, ref = (_Worker(side, n, weights, model) for side in ('ours', 'reference'))
        try:
            for shape in shapes:
                gmacs = _gmacs(model, shape) if paths is INFERENCE else None
                for path in paths['ours']:
                    sides = {'ours': lambda w=ours, p=path, s=shape: w.call(p, s),
                             'reference': lambda w=ref, s=shape: w.call(paths['reference'], s)}
                    if gmacs:
                        sides.update(ours_mm=lambda w=ours: w.call('matmul', (1, 1)),
                                     reference_mm=lambda w=ref: w.call('matmul', (1, 1)))
                    result = interleaved(sides, warmup, repeats)
                    row = dict(model=model, threads=n, shape=list(shape), path=path,
                               load_start=result['load_start'], load_end=result['load_end'])
                    for side in ('ours', 'reference'):
                        row[f'{side}_ms'] = 1000 * result[side]['seconds']
                        row[f'{side}_cpu_ms'] = 1000 * result[side]['cpu_seconds']
                        row[f'{side}_faults'] = result[side]['faults']
                        if gmacs:
                            mm_rate = MATMUL_N ** 3 / 1e9 / result[f'{side}_mm']['seconds']
                            row[f'{side}_of_mm'] = gmacs * 1000 / row[f'{side}_ms'] / mm_rate
                    row['ratio'] = row['ours_ms'] / row['reference_ms']
                    row['cpu_ratio'] = row['ours_cpu_ms'] / row['reference_cpu_ms']
                    rows.append(row)
                    progress(TABLE.row(row))
        finally:
            ours.close()
            ref.close()
    return rows


MATMUL_N = 2048


def _gmacs(model: str, shape) -> float:
    from danet.benchmarks.latency import build_generator
    from danet.utils.complexity import complexity_report
    return complexity_report(build_generator(model), shape=(3, *shape))['gmacs']


def _of_mm(key: str):
    return lambda row: f'{100 * row[key]:.0f}%' if key in row else '-'


TABLE = Table(('<model', 8, 'model:'), ('thr', 3, 'threads:'), ('shape', 9, shape_cell),
              ('path', 8, 'path:'), ('ours ms', 9, 'ours_ms:.1f'),
              ('ref ms', 9, 'reference_ms:.1f'),
              ('ratio', 6, 'ratio:.3f'), ('cpu ratio', 9, 'cpu_ratio:.3f'),
              ('mm ours', 7, _of_mm('ours_of_mm')), ('mm ref', 6, _of_mm('reference_of_mm')),
              ('faults ours', 11, 'ours_faults:.0f'), ('faults ref', 10, 'reference_faults:.0f'),
              ('load', 9, load_cell))


def reference_benchmark(weights, shapes, threads, warmup: int, repeats: int,
                        out: str | None = None, paths: dict = INFERENCE,
                        models=('danet',)) -> list[dict]:
    """``compare`` for each of ``models`` (``weights``: one official-format state dict, or
    ``{model: path}``) printed as a table (with the load at start) and written to ``out``; the
    one runner of ``tools/benchmark_inference.py --reference`` and ``tools/benchmark_train.py
    --reference``."""
    files = weights if isinstance(weights, dict) else {m: weights for m in models}
    for model in models:
        if not Path(files[model]).is_file():
            raise FileNotFoundError(f'--weights: {files[model]} not found; give an '
                                    f'official-format {model} state dict (DANet: shared/data/'
                                    'reference_outputs/danet_official_random.pth; PReNet: '
                                    'shared/data/released_weights/PReNet/...)')
    print(f'load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)'
          + ('; shape = batch x crop' if paths is TRAINING else '')
          + ('; mm: achieved MACs / the same process\'s fp32 matmul rate'
             if paths is INFERENCE else ''))
    print(TABLE.header())
    rows = [row for model in models
            for row in compare(str(files[model]), shapes, list(threads), warmup, repeats,
                               paths=paths, model=model)]
    if out:
        atomic_write_json(out, dict(rows=rows))
    return rows


if __name__ == '__main__':
    worker(*sys.argv[1:2], int(sys.argv[2]), *sys.argv[3:5])
