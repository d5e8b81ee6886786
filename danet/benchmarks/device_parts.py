"""The measurements of the GPU check (``danet.benchmarks.device_check``), each runnable on any
device so that the CPU tests exercise them at tiny sizes: golden outputs, latency, training-step
curves, peak memory and whether the loader keeps up with the step rate."""
import contextlib
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from danet.benchmarks.latency import build_generator
from danet.benchmarks.rows import interleaved
from danet.engine.inference import InferenceEngine
from danet.engine.options import apply_training_options
from danet.engine.tiling import tiled_forward
from danet.models.converters import convert_state_dict
from danet.models.danet.official import from_official
from danet.registry import MODELS
from danet.structures import DerainSample

GOLDEN_TOLERANCE = 1e-3   # max |device output - CPU golden output|
CURVE_WINDOW, CURVE_TOLERANCE = 20, 0.10   # window means of the AMP loss within 10% of fp32's
FEED_MARGIN = 1.2   # the loader must deliver 1.2x the crops the step consumes to count as "fed"
PRENET_GOLDEN_KEY = 'Rain100H/PReNet6'
VARIANTS = ('fp32', 'fp16', 'channels_last', 'compile')


def golden_cases(shared_data: Path, tests_data: Path) -> dict[str, tuple]:
    """name -> (generator with the golden weights, input, outputs to match) for DANet, MPRNet
    (``shared_data/reference_outputs``), PReNet (a released file, ``tests_data``'s outputs) and
    PCNet (``tests_data``)."""
    def load(path):
        return torch.load(path, map_location='cpu', weights_only=True)
    cases = {}
    ref = load(shared_data / 'reference_outputs' / 'danet_official_random.pth')
    danet = MODELS.build(dict(type='DANet'))
    danet.load_state_dict(from_official(ref['state_dict']))
    cases['DANet'] = (danet, ref['input'], ref['outputs'])
    ref = load(shared_data / 'reference_outputs' / 'mprnet_official_random.pth')
    mprnet = MODELS.build(dict(type='MPRNet'))
    mprnet.load_state_dict(ref['state_dict'])
    cases['MPRNet'] = (mprnet, ref['input'], ref['outputs'])
    ref = load(tests_data / 'prenet_released_golden.pth')
    dataset, name = PRENET_GOLDEN_KEY.split('/')
    weights = load(shared_data / 'released_weights' / 'PReNet' / dataset / name / 'net_latest.pth')
    prenet = MODELS.build(dict(type='PReNet', stages=6))
    prenet.load_state_dict(convert_state_dict(weights, 'prenet'))
    outputs = ref['outputs'][PRENET_GOLDEN_KEY]   # [final of image 0, stage 2 of image 0]
    cases['PReNet'] = (prenet, ref['input'], [outputs[0][None], outputs[1][None]])
    ref = load(tests_data / 'pcnet_authors_random.pth')
    pcnet = MODELS.build(dict(type='PCNet', **ref['kwargs']))
    pcnet.load_state_dict(ref['state_dict'])
    cases['PCNet'] = (pcnet, ref['input'], ref['outputs'])
    return cases


@contextlib.contextmanager
def strict_fp32():
    """True fp32 on CUDA: TF32 convolutions and matmuls (PyTorch's CUDA defaults for cuDNN)
    switched off for the block."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def compare_golden(cases: dict[str, tuple], device: str) -> list[dict]:
    """Each case's outputs on ``device`` in strict fp32 (no TF32) against its golden outputs:
    max |difference|."""
    rows = []
    for name, (generator, x, expected) in cases.items():
        generator = generator.to(device).eval()
        with torch.no_grad(), strict_fp32():
            outputs = generator(x.to(device))
        diffs = [float((ours[:len(theirs)].cpu() - theirs).abs().max())
                 for ours, theirs in zip(outputs, expected, strict=False)]
        rows.append(dict(model=name, device=device, outputs=len(diffs),
                         max_abs_diff=max(diffs), passed=max(diffs) <= GOLDEN_TOLERANCE))
        generator.cpu()
    return rows


def synchronised(fn: Callable, device: str) -> Callable:
    """``fn`` followed by a wait for the device, so wall time covers the queued kernels."""
    if not device.startswith('cuda'):
        return fn

    def call(*args):
        result = fn(*args)
        torch.cuda.synchronize()
        return result
    return call


def latency_variant(name: str, variant: str, device: str) -> Callable:
    """``fn(x)``: generator ``name``'s final image through the engine with ``variant``: ``fp32``
    (contiguous), ``fp16`` (autocast), ``channels_last`` or ``compile`` (+ channels-last)."""
    generator = build_generator(name).to(device)
    if variant == 'fp16':
        engine = InferenceEngine(generator, channels_last=False)

        def fp16(x):
            with torch.autocast(torch.device(device).type, torch.float16):
                return engine.final(x)
        return synchronised(fp16, device)
    if variant not in VARIANTS:
        raise ValueError(f'unknown variant {variant!r}')
    engine = InferenceEngine(generator, channels_last=variant != 'fp32',
                             compile=variant == 'compile')
    return synchronised(engine.final, device)


def latency_rows(shapes, variants, device: str, warmup: int, repeats: int,
                 progress=lambda row: None) -> list[dict]:
    """DANet against MPRNet per variant and shape (variant by variant, so the slow ``compile``
    comes last when listed last): medians of calls interleaved between the two."""
    rows = []
    for variant in variants:
        for h, w in shapes:
            x = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0)).to(device)
            sides = {name: latency_variant(name, variant, device) for name in ('danet', 'mprnet')}
            result = interleaved({name: _timed_call(fn, x) for name, fn in sides.items()},
                                 warmup, repeats)
            danet, mprnet = (1000 * result[n]['seconds'] for n in ('danet', 'mprnet'))
            rows.append(dict(shape=[h, w], variant=variant, danet_ms=danet, mprnet_ms=mprnet,
                             danet_over_mprnet=danet / mprnet))
            progress(rows[-1])
            del sides
            _free(device)
    return rows


def _timed_call(fn, x):
    def call():
        start = time.perf_counter()
        fn(x)
        return dict(seconds=time.perf_counter() - start)
    return call


def _free(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.empty_cache()


def synthetic_pairs(batch: int, crop: int, count: int, seed: int = 0) -> list[dict]:
    """``count`` training batches of smooth random backgrounds (clean) with bright streaks added
    (rainy), uint8, as the data preprocessor takes them."""
    gen = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(count):
        coarse = torch.rand(batch, 3, max(crop // 16, 1), max(crop // 16, 1), generator=gen)
        clean = torch.nn.functional.interpolate(coarse, size=(crop, crop), mode='bilinear')
        streaks = (torch.rand(batch, 1, 1, crop, generator=gen) > 0.9).float()
        rainy = (clean + 0.6 * streaks).clamp(0, 1)
        clean, rainy = ((t * 255).round().byte() for t in (clean, rainy))
        batches.append(dict(inputs=list(rainy),
                            data_samples=[DerainSample(gt_img=img) for img in clean]))
    return batches


def train_curve(config: str, device: str, amp: bool, batch: int, crop: int, steps: int,
                seed: int = 0, cfg_options: dict | None = None) -> dict:
    """``steps`` optimiser steps of ``config``'s model (``amp``: the config option ``amp``, fp16
    on CUDA, bf16 on CPU) on synthetic pairs from seed ``seed``: the loss per step, steps/s."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(cfg_options or {})
    cfg.amp = amp
    apply_training_options(cfg, cuda=device.startswith('cuda'))
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model).to(device).train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    data = synthetic_pairs(batch, crop, 8, seed)
    model.train_step(data[0], optim)   # warm-up (cuDNN autotuning, allocator) before timing
    sync = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)
    sync()
    start, losses = time.perf_counter(), []
    for step in range(steps):
        losses.append(model.train_step(data[step % len(data)], optim)['loss'].detach())
    sync()
    seconds = time.perf_counter() - start
    return dict(amp=amp, device=device, batch=batch, crop=crop, steps=steps,
                steps_per_s=steps / seconds, losses=[float(v) for v in losses])


def curves_agree(reference: list[float], other: list[float], window: int = CURVE_WINDOW,
                 tolerance: float = CURVE_TOLERANCE) -> dict:
    """Whether the mean of every ``window``-step window of ``other`` lies within ``tolerance``
    (relative) of ``reference``'s, and both end lower than they start."""
    if len(reference) != len(other) or not reference:
        raise ValueError(f'curves of {len(reference)} and {len(other)} steps cannot be compared')
    window = min(window, len(reference))
    means = [[statistics.fmean(curve[i:i + window]) for i in range(0, len(curve), window)]
             for curve in (reference, other)]
    worst = max(abs(b - a) / abs(a) for a, b in zip(*means, strict=True))
    falls = all(m[-1] < m[0] for m in means) if len(means[0]) > 1 else True
    return dict(window=window, tolerance=tolerance, max_rel_window_diff=worst,
                both_fall=falls, passed=worst <= tolerance and falls)


def peak_memory(name: str, shape, tile: int | None, device: str, overlap: int = 32) -> dict:
    """Peak allocated device memory of one engine inference of a random ``shape`` image, tiled
    at ``tile`` (or whole); an out-of-memory error is a result, not a failure of the check."""
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    engine = InferenceEngine(build_generator(name).to(device))
    x = torch.rand(1, 3, *shape, device=device)
    start = time.perf_counter()
    row = dict(model=name, shape=list(shape), tile=tile)
    try:
        if tile:
            tiled_forward(engine.final, x, tile, overlap, engine.size_divisor)
        else:
            engine.final(x)
        torch.cuda.synchronize()
        row.update(peak_gib=torch.cuda.max_memory_allocated(device) / 2 ** 30, oom=False)
    except torch.cuda.OutOfMemoryError:
        row.update(peak_gib=None, oom=True)
    row['seconds'] = time.perf_counter() - start
    del engine, x
    torch.cuda.empty_cache()
    return row


def feed_verdict(crops_per_s: float, samples_per_s: float, margin: float = FEED_MARGIN) -> dict:
    """Is the step fed? The loader's crops/s against the crops/s the step consumes."""
    ratio = crops_per_s / samples_per_s
    return dict(loader_crops_per_s=crops_per_s, step_samples_per_s=samples_per_s,
                loader_over_step=ratio, margin=margin, fed=ratio >= margin,
                verdict=('fed' if ratio >= margin else
                         f'starved: the loader gives {ratio:.2f}x the step rate; add workers '
                         'or pre-crop the data'))

