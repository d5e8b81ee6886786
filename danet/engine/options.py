"""The training options of a run config, turned into MMEngine's own settings.

Three top-level keys (defaults in ``configs/_base_/default_runtime.py``; docs/training.md):

* ``amp``: mixed precision. On CUDA MMEngine's ``AmpOptimWrapper`` (fp16 autocast + dynamic
  loss scaling); on CPU :class:`BF16OptimWrapper` (bf16 autocast, no scaling needed).
* ``ema``: ``dict(enabled, momentum, begin_iter)``: MMEngine's ``EMAHook``; validation and test
  use the averaged weights, checkpoints store them as ``state_dict`` (the raw ones as
  ``ema_state_dict``) and ``--resume`` restores both.
* ``gpu``: ``dict(cudnn_benchmark, channels_last, pin_memory, non_blocking, compile)``; each is
  applied only where CUDA is available and is a no-op on CPU.

Gradient clipping is MMEngine's ``optim_wrapper.clip_grad`` (e.g. ``dict(max_norm=0.01)``).
"""
from contextlib import contextmanager

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast

from danet.registry import OPTIM_WRAPPERS

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
GPU_KEYS = ('cudnn_benchmark', 'channels_last', 'pin_memory', 'non_blocking', 'compile')


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """``OptimWrapper`` running the forward pass under CPU bf16 autocast (``--amp`` on CPU:
    ``AmpOptimWrapper`` needs a GPU). bf16 keeps fp32's exponent range, so no loss scaling."""

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), autocast(device_type='cpu', dtype=torch.bfloat16):
            yield


def _loaders(cfg: Config):
    for key in LOADERS:
        loaders = cfg.get(key)
        for loader in loaders if isinstance(loaders, list) else [loaders]:
            if isinstance(loader, dict):
                yield loader


def apply_training_options(cfg: Config, cuda: bool | None = None) -> list[str]:
    """Apply ``amp``, ``ema`` and ``gpu`` of ``cfg`` in place (idempotent); return what was
    left off because there is no CUDA (``cuda`` defaults to ``torch.cuda.is_available()``)."""
    cuda = torch.cuda.is_available() if cuda is None else cuda
    if cfg.get('amp', False):
        wrapper = cfg.optim_wrapper
        if cuda:
            wrapper.update(type='AmpOptimWrapper', dtype='float16')
        else:
            wrapper.type = 'BF16OptimWrapper'
            wrapper.pop('dtype', None)
    ema = cfg.get('ema') or {}
    hooks = cfg.setdefault('custom_hooks', [])
    if ema.get('enabled') and not any(h.get('type') == 'EMAHook' for h in hooks):
        hooks.append(dict(type='EMAHook', ema_type='ExponentialMovingAverage',
                          momentum=ema.get('momentum', 0.001),
                          begin_iter=ema.get('begin_iter', 0), strict_load=True))
    gpu = cfg.get('gpu') or {}
    unknown = sorted(set(gpu) - set(GPU_KEYS))
    if unknown:
        raise ValueError(f'gpu: unknown key(s) {", ".join(unknown)}; the gpu options are '
                         f'{", ".join(GPU_KEYS)}')
    wanted = [key for key in GPU_KEYS if gpu.get(key)]
    if not cuda:
        return wanted
    cfg.setdefault('env_cfg', {})['cudnn_benchmark'] = bool(gpu.get('cudnn_benchmark'))
    cfg.model.setdefault('data_preprocessor', {})['non_blocking'] = bool(gpu.get('non_blocking'))
    for loader in _loaders(cfg):
        loader['pin_memory'] = bool(gpu.get('pin_memory'))
    if gpu.get('compile'):
        cfg.compile = gpu['compile']
    if gpu.get('channels_last') and not any(h.get('type') == 'ChannelsLastHook' for h in hooks):
        hooks.append(dict(type='ChannelsLastHook'))
    return []
