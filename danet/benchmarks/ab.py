"""Ours ÷ the authors' code, measured side by side: one worker process per side, calls interleaved.

The reference side is ``danet.benchmarks.reference.ReferenceDANet`` (the authors' DANet
re-stated) in a process with PyTorch's and glibc's defaults, called the way their test script
does (uint8 → float, ``no_grad`` forward, clamp, round to uint8). Our side applies
``danet.utils.memory.keep_freed_memory`` and runs the same weights (converted) through the
``InferenceEngine``: ``derain`` (what ``tools/derain.py`` does per image) and ``predict`` (the test
loop's call per dataset item). The parent alternates single calls between the workers (A/B, B/A,
...), so load spikes hit both sides alike, and reports the median of ``repeats`` per path after
``warmup`` untimed calls, with minor page faults per call and the load average.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from danet.benchmarks.rows import Table, interleaved, load_cell, shape_cell
from danet.utils.fileio import atomic_write_json
from danet.utils.memory import keep_freed_memory, minor_faults

TRAIN_CONFIG = str(Path(__file__).resolve().parents[2]
                   / 'configs/danet/danet_1xb16-1000e_rain13k.py')

INFERENCE = {'ours': ('derain', 'predict'), 'reference': 'reference'}
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


def _ours(weights: dict):
    from danet.apis.inference import derain
    from danet.engine.inference import InferenceEngine
    engine = InferenceEngine(_model(weights))

    def predict(image):
        chw = torch.from_numpy(image).permute(2, 0, 1)
        return engine.predict(dict(inputs=[chw]))[0].pred_img
    return {'derain': lambda image: derain(engine, image), 'predict': predict,
            'train': _train_step(weights, False), 'train_cl': _train_step(weights, True)}


def _train_step(weights: dict, channels_last: bool):
    """The platform's step: data preprocessor, every loss term, the config's optimiser."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper

    from danet.structures import DerainSample
    state = {}

    def step(images):
        if not state:  # built on first use: only the paths asked for hold a model
            model = _model(weights, channels_last=channels_last).train()
            optim = build_optim_wrapper(model, Config.fromfile(TRAIN_CONFIG).optim_wrapper)
            state.update(model=model, optim=optim)
        half = len(images) // 2
        data = dict(inputs=[torch.from_numpy(i).permute(2, 0, 1) for i in images[:half]],
                    data_samples=[DerainSample(gt_img=torch.from_numpy(i).permute(2, 0, 1))
                                  for i in images[half:]])
        state['model'].train_step(data, state['optim'])
    return step


def _reference(weights: dict):
    from danet.benchmarks.reference import ReferenceDANet, reference_train_step
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
    return {'reference': run, 'reference_train': train_step}


def worker(side: str, threads: int, weights_path: str) -> None:
    """Answer one JSON line per request line ``{"path": ..., "shape": [h, w]}`` on stdin."""
    torch.set_num_threads(threads)
    if side == 'ours':
        keep_freed_memory()
    weights = torch.load(weights_path, map_location='cpu', weights_only=True)
    weights = weights.get('state_dict', weights)
    from mmengine.registry import init_default_scope
    init_default_scope('danet')
    paths = _ours(weights) if side == 'ours' else _reference(weights)
    images = {}
    for line in sys.stdin:
        request = json.loads(line)
        shape = tuple(request['shape'])
        training = request['path'] in (*TRAINING['ours'], TRAINING['reference'])
        if (training, shape) not in images:
            images[training, shape] = _batch(*shape) if training else _image(*shape)
        image = images[training, shape]
        faults, start = minor_faults(), time.perf_counter()
        paths[request['path']](image)
        print(json.dumps(dict(seconds=time.perf_counter() - start,
                              faults=minor_faults() - faults)), flush=True)


class _Worker:
    def __init__(self, side: str, threads: int, weights: str):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        if side == 'reference':
            env['DANET_MALLOC'] = 'default'
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'danet.benchmarks.ab', side, str(threads), weights],
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
            progress=print, paths: dict = INFERENCE) -> list[dict]:
    """One row per thread count × shape × our path: medians, ratio to the reference, faults.
    ``paths``: ``INFERENCE`` (shapes are H, W) or ``TRAINING`` (shapes are batch, crop)."""
    rows = []
    for n in threads:
        ours, ref = _Worker('ours', n, weights), _Worker('reference', n, weights)
        try:
            for shape in shapes:
                for path in paths['ours']:
                    result = interleaved(
                        {'ours': lambda w=ours, p=path, s=shape: w.call(p, s),
                         'reference': lambda w=ref, s=shape: w.call(paths['reference'], s)},
                        warmup, repeats)
                    row = dict(threads=n, shape=list(shape), path=path,
                               load_start=result['load_start'], load_end=result['load_end'])
                    for side in ('ours', 'reference'):
                        row[f'{side}_ms'] = 1000 * result[side]['seconds']
                        row[f'{side}_faults'] = result[side]['faults']
                    row['ratio'] = row['ours_ms'] / row['reference_ms']
                    rows.append(row)
                    progress(TABLE.row(row))
        finally:
            ours.close()
            ref.close()
    return rows


TABLE = Table(('thr', 3, 'threads:'), ('shape', 9, shape_cell), ('path', 8, 'path:'),
              ('ours ms', 9, 'ours_ms:.1f'), ('ref ms', 9, 'reference_ms:.1f'),
              ('ratio', 6, 'ratio:.3f'), ('faults ours', 11, 'ours_faults:.0f'),
              ('faults ref', 10, 'reference_faults:.0f'), ('load', 9, load_cell))


def reference_benchmark(weights, shapes, threads, warmup: int, repeats: int,
                        out: str | None = None, paths: dict = INFERENCE) -> list[dict]:
    """``compare`` printed as a table (with the load at start) and written to ``out``; the one
    runner of ``tools/benchmark_inference.py --reference`` and ``tools/benchmark_train.py
    --reference``."""
    if not Path(weights).is_file():
        raise FileNotFoundError(f'--weights: {weights} not found; give an official-format DANet '
                                'state dict (shared/data/reference_outputs/'
                                'danet_official_random.pth)')
    print(f'load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)'
          + ('; shape = batch x crop' if paths is TRAINING else ''))
    print(TABLE.header())
    rows = compare(str(weights), shapes, list(threads), warmup, repeats, paths=paths)
    if out:
        atomic_write_json(out, dict(rows=rows))
    return rows


if __name__ == '__main__':
    worker(sys.argv[1], int(sys.argv[2]), sys.argv[3])
