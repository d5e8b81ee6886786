"""The inference engine: a model prepared once, used by every inference path.

``derain`` (and ``tools/derain.py``), the test loop (``tools/test.py``), tiling and the benchmarks
all run ``InferenceEngine``. Preparing puts the model in eval mode, freezes its parameters,
applies the inference-time rewrites of ``danet.engine.rewrites`` (the speed tricks the model files
leave out: fused gates, in-place ops, oneDNN convolutions, padded output convolutions) and
stores the generator's weights channels-last (oneDNN's layout: DANet 1.15–1.2×, MPRNet ~1.4×
faster on CPU, ``docs/inference.md``); each call converts the input to channels-last, runs under
``torch.inference_mode`` and returns contiguous outputs equal to the plain forward to float
rounding (tested <= 1e-4). Options (measured in ``docs/inference.md``, "Options"): ``compile``
(``torch.compile``, inductor with freezing; minutes for the first call per shape) and ``bf16``
(CPU autocast to bfloat16: faster where the CPU has bf16 units, changes outputs). An autocast the
caller opens (the test loop's ``fp16``) stays in force inside the engine.
"""
import contextlib

import torch
from mmengine.model import is_model_wrapper
from torch import nn

from danet.engine.rewrites import rewrite_for_inference
from danet.engine.tiling import restore_overlap, tiled_forward
from danet.models.base import contract_outputs
from danet.models.data_preprocessor import to_float_rgb
from danet.models.derain_model import DerainModel, attach_predictions
from danet.structures import DerainSample

ENGINE_ATTR = '_danet_inference_engine'


class InferenceEngine:
    """Callable ``x -> list[Tensor]`` (the generator's outputs); ``predict`` for dataset batches."""

    def __init__(self, model: nn.Module, *, channels_last: bool = True, compile: bool = False,
                 bf16: bool = False):
        model = model.module if is_model_wrapper(model) else model
        self.model = model if isinstance(model, DerainModel) else DerainModel(generator=model)
        self.model.eval().requires_grad_(False)
        generator = rewrite_for_inference(self.model.generator)
        if channels_last:
            generator.to(memory_format=torch.channels_last)
        # freezing: inductor folds the frozen weights into the graph and pre-packs them
        self.generator = (torch.compile(generator, dynamic=False, options={'freezing': True})
                          if compile else generator)
        self.size_divisor = self.model.data_preprocessor.size_divisor or 1
        self.channels_last, self.bf16 = channels_last, bf16

    @classmethod
    def of(cls, model: 'nn.Module | InferenceEngine') -> 'InferenceEngine':
        """The engine of ``model``, prepared on first use with the defaults and kept on it."""
        if isinstance(model, InferenceEngine):
            return model
        model = model.module if is_model_wrapper(model) else model
        engine = model.__dict__.get(ENGINE_ATTR)
        if engine is None:
            engine = cls(model)
            model.__dict__[ENGINE_ATTR] = engine
        return engine

    def __call__(self, x: torch.Tensor) -> list[torch.Tensor]:
        # an autocast opened by the caller (the test loop's ``fp16``) stays in force
        bf16 = torch.autocast('cpu', torch.bfloat16) if self.bf16 else contextlib.nullcontext()
        with torch.inference_mode(), bf16:
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            outputs = contract_outputs(self.model.generator, x, self.generator(x))
            return [y.float().contiguous() for y in outputs]

    def final(self, x: torch.Tensor) -> torch.Tensor:
        """The final image only (output 0): the ``fn`` that ``tiled_forward`` expects."""
        return self(x)[0]

    def predict(self, data: dict) -> list[DerainSample]:
        """``model.test_step`` through the engine: preprocess (pad), forward, crop and clamp."""
        with torch.inference_mode():
            data = self.model.data_preprocessor(data, False)
            inputs = data['inputs']
            batches = [inputs] if isinstance(inputs, torch.Tensor) else inputs
            finals = [image for batch in batches for image in self.final(batch)]
            return attach_predictions(finals, data['data_samples'])

    def restore(self, images: list[torch.Tensor], tile: int | None = None,
                overlap: int | None = None) -> list[torch.Tensor]:
        """Each C×H×W image (uint8 or float) restored as float 3×H×W in [0, 1]: ``predict``
        whole, or ``tiled_forward`` on ``tile``-sized tiles overlapping by ``overlap`` (default
        ``default_overlap(tile)``; ``restore_overlap`` refuses too small a tile or overlap)."""
        if tile is None:
            return [sample.pred_img for sample in self.predict(dict(inputs=images))]
        overlap = restore_overlap(tile, overlap)
        preprocessor = self.model.data_preprocessor
        batch = torch.stack([to_float_rgb(img, f'image {i}')[0] for i, img in enumerate(images)])
        with torch.inference_mode():
            restored = tiled_forward(self.final, batch.to(preprocessor.device), tile, overlap,
                                     self.size_divisor)
        return list(restored.clamp(0, 1))
