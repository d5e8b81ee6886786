"""``RestorationDataPreprocessor`` (old name ``DerainDataPreprocessor``): dataset items → float
RGB batch in [0, 1] on the model device."""
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor

from danet.registry import MODELS
from danet.structures import RestorationSample


def to_float_rgb(image: torch.Tensor, what: str) -> tuple[torch.Tensor, bool]:
    """A C×H×W uint8 or [0, 1] float image as float 3×H×W; also whether it was grayscale."""
    if image.ndim != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f'{what}: expected a 1×H×W or 3×H×W image, got shape {tuple(image.shape)}')
    if image.dtype == torch.uint8:
        image = image.float() / 255
    elif not image.is_floating_point():
        raise TypeError(f'{what}: expected uint8 or float in [0, 1], got dtype {image.dtype}')
    grayscale = image.shape[0] == 1
    return (image.expand(3, -1, -1) if grayscale else image), grayscale


def pad_to_multiple(x: torch.Tensor, divisor: int) -> torch.Tensor:
    """Pad a B×C×H×W tensor on the right/bottom to multiples of ``divisor``: reflect, or
    replicate when a side is too short to reflect (pad ≥ side)."""
    height, width = x.shape[-2:]
    pad_h, pad_w = -height % divisor, -width % divisor
    if pad_h == 0 and pad_w == 0:
        return x
    mode = 'reflect' if pad_h < height and pad_w < width else 'replicate'
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)


@MODELS.register_module()
class RestorationDataPreprocessor(BaseDataPreprocessor):
    """Convert images (uint8 0–255 or float 0–1; 1 or 3 channels) to float RGB in [0, 1].

    ``inputs`` may be a list of C×H×W tensors (``pseudo_collate``) or one B×C×H×W tensor.
    Grayscale images are replicated to 3 channels and ``grayscale=True`` is recorded in their
    sample's metainfo; ``gt_img`` is converted the same way.

    Training: the images are stacked unpadded (they must share one size). Prediction: each image
    is padded on the right/bottom (reflect; replicate where a side is shorter than its pad) to
    its own multiple of ``size_divisor``, never to its batch mates' size, so a prediction does
    not depend on the batch; ``img_shape`` (before) and
    ``pad_shape`` (after) are recorded for the model to crop back. If all padded sizes agree,
    ``inputs`` is one B×3×H×W tensor, otherwise a list of 1×3×H×W tensors.

    Args:
        size_divisor: pad multiple in prediction; ``None`` lets ``RestorationModel`` take its
            generator's ``size_divisor``.
    """

    def __init__(self, size_divisor: int | None = None, non_blocking: bool = False):
        super().__init__(non_blocking=non_blocking)
        if size_divisor is not None and size_divisor < 1:
            raise ValueError(f'size_divisor must be a positive integer, got {size_divisor}')
        self.size_divisor = size_divisor

    def forward(self, data: dict, training: bool = False) -> dict:
        if not isinstance(data, dict) or 'inputs' not in data:
            found = list(data) if isinstance(data, dict) else type(data).__name__
            raise KeyError(f'data preprocessor: expected a dict with "inputs", got {found}')
        data = self.cast_data(data)
        inputs = list(data['inputs'])
        samples = data.get('data_samples')
        if samples is None:
            samples = [RestorationSample() for _ in inputs]
        if len(samples) != len(inputs):
            raise ValueError(f'data preprocessor: {len(inputs)} inputs but {len(samples)} '
                             'data_samples')
        images = []
        for index, (image, sample) in enumerate(zip(inputs, samples, strict=True)):
            what = f'image {sample.metainfo.get("name", index)!r}'
            image, grayscale = to_float_rgb(image, what)
            if 'gt_img' in sample:
                sample.gt_img = to_float_rgb(sample.gt_img, f'{what} gt_img')[0]
            sample.set_metainfo(dict(grayscale=grayscale, img_shape=tuple(image.shape[-2:])))
            if 'ori_shape' not in sample:
                sample.set_metainfo(dict(ori_shape=tuple(image.shape[-2:])))
            if not training:
                image = self.pad(image)
                sample.set_metainfo(dict(pad_shape=tuple(image.shape[-2:])))
            images.append(image)
        return dict(inputs=self._stack(images, training), data_samples=samples)

    def pad(self, image: torch.Tensor) -> torch.Tensor:
        """A C×H×W image padded right/bottom to the next multiple of ``size_divisor``."""
        return pad_to_multiple(image[None], self.size_divisor or 1)[0]

    @staticmethod
    def _stack(images: Sequence[torch.Tensor], training: bool) -> torch.Tensor | list:
        shapes = {tuple(image.shape) for image in images}
        if len(shapes) == 1:
            return torch.stack(images)
        if training:
            raise ValueError(f'data preprocessor: training images must share one size, got '
                             f'{sorted(shapes)}')
        return [image[None] for image in images]


DerainDataPreprocessor = RestorationDataPreprocessor   # the name before other tasks (same class)
MODELS.register_module(name='DerainDataPreprocessor', module=RestorationDataPreprocessor)
