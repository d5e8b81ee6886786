"""Python API: build a model from a config (+ checkpoint) and derain images of any size."""
from pathlib import Path

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import nn

from danet.engine.inference import InferenceEngine
from danet.evaluation.protocols import build_protocol
from danet.models.checkpoint import DEFAULT_REVISE_KEYS, load_weights
from danet.registry import MODELS, SCOPE
from danet.utils.config import load_config


def init_model(config: str | Path | Config, checkpoint: str | Path | None = None,
               device: str | torch.device = 'cpu', cfg_options: dict | None = None,
               key_rules=DEFAULT_REVISE_KEYS) -> nn.Module:
    """Build ``cfg.model`` under the ``danet`` scope, load ``checkpoint``, return it in eval mode.

    The checkpoint is an MMEngine checkpoint (``state_dict`` keys prefixed ``generator.``) or a
    generator's own state dict (keys renamed by ``key_rules``, ``--revise-keys``), always read
    with ``torch.load(weights_only=True)``: a file whose pickle
    needs anything else is refused wherever it lies. Weights of another architecture raise a
    ``ValueError`` naming the missing, unexpected and mismatched keys
    (``danet.models.checkpoint``).
    """
    cfg = load_config(config) if isinstance(config, str | Path) else config.copy()
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError(f'config {getattr(cfg, "filename", None) or config} has no "model" key')
    with DefaultScope.overwrite_default_scope(SCOPE):
        model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_weights(model, checkpoint, key_rules)
    return model.to(device).eval()


def derain(model: 'nn.Module | InferenceEngine', image: np.ndarray | torch.Tensor,
           tile: int | None = None, overlap: int | None = None,
           protocol=None) -> np.ndarray | torch.Tensor:
    """Derain one image or a batch, any size, through the model's ``InferenceEngine``.

    Args:
        model: a ``DerainModel`` (from ``init_model``; prepared for inference in place on the
            first call: eval, frozen, channels-last) or an ``InferenceEngine``.
        image: H×W×3 or H×W uint8 array (returns H×W×3 uint8), or a B×3×H×W float tensor in
            [0, 1] (returns the same shape, float, on the input's device).
        tile: if set, run ``danet.engine.tiling.tiled_forward`` on ``tile``-sized tiles that
            overlap by ``overlap`` pixels (default ``default_overlap(tile)``; bounded memory);
            else the whole image, reflect-padded to the generator's ``size_divisor`` and cropped
            back.
        protocol: for a uint8 image, the evaluation protocol whose rule quantises the output
            (``EvalProtocol.quantize``: truncation under ``prenet_matlab``); default: the
            default protocol's rounding, as ``tools/test.py`` scores.
    """
    engine = InferenceEngine.of(model)
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim not in (2, 3) or (
                image.ndim == 3 and image.shape[2] != 3) or 0 in image.shape[:2]:
            raise ValueError(f'derain: expected an H×W×3 or H×W uint8 array with H, W >= 1, '
                             f'got {image.dtype} {image.shape}')
        chw = torch.from_numpy(np.require(image, requirements=('C', 'W')))  # copies if read-only
        chw = chw[None] if chw.ndim == 2 else chw.permute(2, 0, 1)
        restored = engine.restore([chw], tile, overlap)[0]
        return build_protocol(protocol).quantize(restored)
    if isinstance(image, torch.Tensor) and image.ndim == 4 and image.is_floating_point():
        if image.shape[1] != 3 or 0 in image.shape:
            raise ValueError(f'derain: expected a B×3×H×W float tensor with B, H, W >= 1, got '
                             f'{tuple(image.shape)}')
        return torch.stack(engine.restore(list(image), tile, overlap)).to(image.device)
    raise TypeError(f'derain: expected a uint8 numpy image or a B×3×H×W float tensor, got '
                    f'{type(image).__name__} {getattr(image, "shape", "")}')
