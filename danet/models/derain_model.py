"""``RestorationModel`` (registered also under its old name ``DerainModel``): generator + loss
entries + data preprocessor, for every task (derain, dehaze, lowlight)."""
import warnings
from collections.abc import Sequence

import torch
from mmengine.model import BaseModel
from torch import nn

from danet.models.base import contract_outputs
from danet.models.losses import LossGroup, LossTerm, build_loss_terms
from danet.registry import MODELS
from danet.structures import RestorationSample


def _build(cfg: dict | nn.Module) -> nn.Module:
    return cfg if isinstance(cfg, nn.Module) else MODELS.build(cfg)


@MODELS.register_module()
class RestorationModel(BaseModel):
    """Wraps an image-restoration generator (degraded input → restored image) for MMEngine's
    Runner; the task (rain, haze, low light) is in the data, not here.

    Args:
        generator: config (or module) of a network whose ``forward`` returns a list of outputs,
            final image first, and which has a ``size_divisor`` (1 when absent).
        losses: loss-term and loss-group configs applied to the generator outputs
            (``danet.models.losses``); DANet's association constraint is one of them
            (``BackgroundSupervision``, off: ``NoAssociationConstraint``).
        data_preprocessor: defaults to ``RestorationDataPreprocessor``; its ``size_divisor`` is
            taken from the generator unless set.
        channels_last: store the generator's weights channels-last and feed it channels-last
            inputs (oneDNN's layout; a faster CPU training step, ``docs/training.md``).
        association_constraint: deprecated (goes in 0.3): a loss group given apart from
            ``losses``; it replaces the group of ``losses`` (or is appended), with a warning.

    ``forward`` modes: ``'loss'`` → ``{'loss_<name>': tensor}`` for every term (zero when off);
    ``'predict'`` → ``RestorationSample`` list with ``pred_img`` (3×H×W in [0, 1], cropped to the
    unpadded size); ``'tensor'`` → the raw generator outputs.
    """

    def __init__(self, generator: dict | nn.Module,
                 losses: Sequence[dict | LossTerm | LossGroup] = (),
                 data_preprocessor: dict | nn.Module | None = None, init_cfg: dict | None = None,
                 channels_last: bool = False,
                 association_constraint: dict | nn.Module | None = None):
        preprocessor = _build(data_preprocessor or dict(type='RestorationDataPreprocessor'))
        super().__init__(data_preprocessor=preprocessor, init_cfg=init_cfg)
        self.generator = _build(generator)
        if association_constraint is not None:
            losses = _with_group(losses, _build(association_constraint))
        self.losses = build_loss_terms(losses, type(self).__name__, groups=True)
        if getattr(self.data_preprocessor, 'size_divisor', 0) is None:
            self.data_preprocessor.size_divisor = getattr(self.generator, 'size_divisor', 1)
        self.channels_last = channels_last
        if channels_last:
            self.generator.to(memory_format=torch.channels_last)

    def forward(self, inputs: torch.Tensor | list, data_samples: list | None = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.run_generator(inputs)
        raise ValueError(f"RestorationModel: unknown forward mode {mode!r} (use 'loss', 'predict' "
                         "or 'tensor')")

    def run_generator(self, inputs: torch.Tensor) -> list[torch.Tensor]:
        """The generator's outputs as a list, final image first."""
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return contract_outputs(self.generator, inputs, self.generator(inputs))

    def loss(self, inputs: torch.Tensor, data_samples: list[RestorationSample]) -> dict:
        """Every loss term's value under ``loss_<name>``."""
        missing = [i for i, s in enumerate(data_samples or []) if 'gt_img' not in s]
        if not data_samples or missing:
            raise ValueError(f'RestorationModel.loss needs gt_img in every data sample; missing in '
                             f'samples {missing or "all"}')
        target = torch.stack([sample.gt_img for sample in data_samples])
        outputs = self.run_generator(inputs)
        losses = {}
        for term in self.losses:
            if isinstance(term, LossGroup):
                losses.update(term(outputs, target))
            else:
                losses[f'loss_{term.name}'] = term(outputs,
                                                   inputs if term.target == 'input' else target)
        return losses

    def predict(self, inputs: torch.Tensor | list, data_samples: list[RestorationSample]
                ) -> list[RestorationSample]:
        """Final outputs, clamped to [0, 1] and cropped to each sample's ``img_shape``."""
        batches = [inputs] if isinstance(inputs, torch.Tensor) else inputs
        finals = [image for batch in batches for image in self.run_generator(batch)[0]]
        return attach_predictions(finals, data_samples)


DerainModel = RestorationModel   # the name before tasks other than deraining (same class)
MODELS.register_module(name='DerainModel', module=RestorationModel)


def _with_group(losses: Sequence, group: nn.Module) -> list:
    """``losses`` with ``group`` (the deprecated ``association_constraint``) in place of their
    loss group, or appended."""
    warnings.warn('RestorationModel: model.association_constraint is deprecated (goes in 0.3); '
                  'put the loss group in model.losses (configs/_base_/models/danet.py)',
                  FutureWarning, stacklevel=3)
    built = [t if isinstance(t, nn.Module) else MODELS.build(t) for t in losses]
    at = next((i for i, t in enumerate(built) if isinstance(t, LossGroup)), len(built))
    return [*built[:at], group, *built[at + 1:]]


def attach_predictions(finals: Sequence[torch.Tensor], data_samples: list[RestorationSample]
                       ) -> list[RestorationSample]:
    """Set each sample's ``pred_img``: its final output cropped to ``img_shape``, clamped."""
    for final, sample in zip(finals, data_samples, strict=True):
        height, width = sample.metainfo.get('img_shape', final.shape[-2:])
        sample.pred_img = final[:, :height, :width].clamp(0, 1)
    return data_samples
