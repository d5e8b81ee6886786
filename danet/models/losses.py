"""Loss terms and loss groups (DANET_SPEC §2, MPRNET_SPEC §2): the entries of a model's ``losses``.

A loss term is configured as ``dict(type=..., name='char', outputs=[0], loss_weight=0.3)``:
called on the generator's output list and the target, it returns ``loss_weight`` times the sum of
its criterion over the selected outputs. ``target='input'`` compares with the rainy input instead
of the ground truth (PCNet's re-synthesised rainy image). The target is resized (bilinear,
``align_corners=False``, a 2×2 mean on even sizes) to each output whose spatial size differs.
The model reports a term under the key ``loss_<name>``.

A loss group (``LossGroup``) is one entry of ``losses`` that holds several terms on one output
and is swapped or switched off as a whole: DANet's association constraint
(``BackgroundSupervision``, off: ``NoAssociationConstraint``, same keys, values zero).
"""
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from danet.registry import MODELS


def resize_like(target: torch.Tensor, pred: torch.Tensor) -> torch.Tensor:
    """``target`` bilinearly resized to ``pred``'s spatial size (unchanged when it matches)."""
    if target.shape[-2:] == pred.shape[-2:]:
        return target
    return F.interpolate(target, size=pred.shape[-2:], mode='bilinear', align_corners=False)


def charbonnier(diff: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Mean of ``sqrt(diff² + eps²)`` over all elements."""
    return torch.sqrt(diff * diff + eps * eps).mean()


def depthwise_conv(x: torch.Tensor, kernel: torch.Tensor, padding: int = 0) -> torch.Tensor:
    """Convolve every channel of ``x`` with one 2-D ``kernel`` (shape 1×1×k×k)."""
    channels = x.shape[1]
    return F.conv2d(x, kernel.expand(channels, 1, *kernel.shape[-2:]), padding=padding,
                    groups=channels)


class LossTerm(nn.Module):
    """A weighted criterion on selected generator outputs; subclasses define ``criterion``."""

    default_name = 'loss'

    def __init__(self, name: str | None = None, outputs: Sequence[int] = (0,),
                 loss_weight: float = 1.0, target: str = 'gt'):
        super().__init__()
        if target not in ('gt', 'input'):
            raise ValueError(f"loss term {name or self.default_name!r}: target must be 'gt' or "
                             f"'input', got {target!r}")
        self.target = target
        self.name = name or self.default_name
        self.outputs = list(outputs)
        if not self.outputs:
            raise ValueError(f'loss term {self.name!r}: outputs must select at least one output')
        self.loss_weight = float(loss_weight)

    def criterion(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Unweighted loss between ``pred`` and a same-sized ``target``."""
        raise NotImplementedError

    def forward(self, outputs: Sequence[torch.Tensor], target: torch.Tensor) -> torch.Tensor:
        total = 0
        for index in self.outputs:
            if not -len(outputs) <= index < len(outputs):
                raise ValueError(f'loss term {self.name!r} selects output {index}, but the '
                                 f'generator returned {len(outputs)} output(s); select an '
                                 'existing output in model.losses (outputs=[...]) of the config')
            pred = outputs[index]
            total = total + self.criterion(pred, resize_like(target, pred))
        return self.loss_weight * total

    def extra_repr(self) -> str:
        return (f'name={self.name!r}, outputs={self.outputs}, loss_weight={self.loss_weight}, '
                f'target={self.target!r}')


@MODELS.register_module()
class CharbonnierLoss(LossTerm):
    """Charbonnier loss, mean of ``sqrt(d² + eps²)`` with ``eps = 1e-3``."""

    default_name = 'char'

    def __init__(self, name: str | None = None, outputs: Sequence[int] = (0,),
                 loss_weight: float = 1.0, eps: float = 1e-3, target: str = 'gt'):
        super().__init__(name, outputs, loss_weight, target)
        self.eps = eps

    def criterion(self, pred, target):
        return charbonnier(pred - target, self.eps)


@MODELS.register_module()
class MSELoss(LossTerm):
    """Mean squared error (PReNet's MSE recipe)."""

    default_name = 'mse'

    def criterion(self, pred, target):
        return F.mse_loss(pred, target)


@MODELS.register_module()
class L1Loss(LossTerm):
    """Mean absolute error (Restormer's and DRSformer's recipes)."""

    default_name = 'l1'

    def criterion(self, pred, target):
        return F.l1_loss(pred, target)


@MODELS.register_module()
class EdgeLoss(LossTerm):
    """Charbonnier loss between one-level Laplacian-pyramid band-passes of prediction and target.

    Band-pass: blur with the 5×5 binomial-like Gaussian (replicate padding), keep the even pixels
    ×4 in a zero map, blur again, subtract from the image. Works for any channel count.
    """

    default_name = 'edge'

    def __init__(self, name: str | None = None, outputs: Sequence[int] = (0,),
                 loss_weight: float = 1.0, eps: float = 1e-3, target: str = 'gt'):
        super().__init__(name, outputs, loss_weight, target)
        self.eps = eps
        taps = torch.tensor([0.05, 0.25, 0.4, 0.25, 0.05])
        self.register_buffer('kernel', torch.outer(taps, taps)[None, None], persistent=False)

    def _blur(self, x: torch.Tensor) -> torch.Tensor:
        return depthwise_conv(F.pad(x, (2, 2, 2, 2), mode='replicate'), self.kernel.to(x.dtype))

    def band_pass(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` minus its blurred, 2× decimated and re-expanded version."""
        blurred = self._blur(x)
        expanded = torch.zeros_like(blurred)
        expanded[..., ::2, ::2] = blurred[..., ::2, ::2] * 4
        return x - self._blur(expanded)

    def criterion(self, pred, target):
        return charbonnier(self.band_pass(pred) - self.band_pass(target), self.eps)


@MODELS.register_module()
class SSIMLoss(LossTerm):
    """Negative SSIM (11×11 Gaussian window σ 1.5, zero padding 5, C1 0.01², C2 0.03², on [0, 1]).

    Returns ``-SSIM`` as the released DANet loss does, so a positive ``loss_weight`` of 0.15
    gives its ``-0.15·SSIM`` term.
    """

    default_name = 'ssim'

    def __init__(self, name: str | None = None, outputs: Sequence[int] = (0,),
                 loss_weight: float = 1.0, window_size: int = 11, sigma: float = 1.5,
                 target: str = 'gt'):
        super().__init__(name, outputs, loss_weight, target)
        offsets = torch.arange(window_size, dtype=torch.float64) - window_size // 2
        taps = torch.exp(-offsets ** 2 / (2 * sigma ** 2))
        taps = (taps / taps.sum()).float()
        self.register_buffer('window', torch.outer(taps, taps)[None, None], persistent=False)
        self.padding = window_size // 2

    def ssim(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean SSIM over batch, channels and pixels."""
        window = self.window.to(pred.dtype)

        def blur(x):
            return depthwise_conv(x, window, self.padding)

        mu_p, mu_t = blur(pred), blur(target)
        var_p = blur(pred * pred) - mu_p * mu_p
        var_t = blur(target * target) - mu_t * mu_t
        cov = blur(pred * target) - mu_p * mu_t
        c1, c2 = 0.01 ** 2, 0.03 ** 2
        ssim_map = ((2 * mu_p * mu_t + c1) * (2 * cov + c2)
                    / ((mu_p * mu_p + mu_t * mu_t + c1) * (var_p + var_t + c2)))
        return ssim_map.mean()

    def criterion(self, pred, target):
        return -self.ssim(pred, target)


def loss_keys(entry: nn.Module) -> list[str]:
    """The ``loss_*`` keys a loss entry (a term or a group) reports."""
    return [f'loss_{entry.name}'] if isinstance(entry, LossTerm) else list(entry.loss_keys)


def build_loss_terms(terms: Sequence[dict | nn.Module], owner: str,
                     groups: bool = False) -> nn.ModuleList:
    """Build loss-term configs (or take built terms; with ``groups``, ``LossGroup`` entries too);
    their keys must be unique within ``owner``."""
    built = nn.ModuleList(t if isinstance(t, nn.Module) else MODELS.build(t) for t in terms)
    kinds = (LossTerm, LossGroup) if groups else LossTerm
    for term in built:
        if not isinstance(term, kinds):
            raise TypeError(f'{owner}: {type(term).__name__} is not a loss term (LossTerm'
                            + (' or LossGroup)' if groups else ')'))
    keys = [key for term in built for key in loss_keys(term)]
    repeated = sorted({k.removeprefix('loss_') for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f'{owner}: loss term names must be unique, repeated: {repeated}')
    return built


class LossGroup(nn.Module):
    """Several loss terms as one entry of ``losses``: ``forward(outputs, target)`` returns
    ``{'loss_<term name>': value}``, the keys listed by ``loss_keys``."""

    terms: nn.ModuleList

    @property
    def loss_keys(self) -> list[str]:
        return [f'loss_{term.name}' for term in self.terms]


DANET_ASSOCIATION_TERMS = (
    dict(type='CharbonnierLoss', name='assoc_char', loss_weight=0.24),
    dict(type='EdgeLoss', name='assoc_edge', loss_weight=0.16),
)


@MODELS.register_module()
class BackgroundSupervision(LossGroup):
    """DANet's association constraint: supervise the sampled background (generator output
    ``output``) with the resized target, one key ``loss_<term name>`` per term.

    The defaults are the released weights: Charbonnier 0.24 and Edge 0.16 (DANET_SPEC §2.2).
    A term config may omit ``outputs``; if it sets them they must equal ``[output]``.
    """

    def __init__(self, output: int = 1,
                 losses: Sequence[dict | LossTerm] = DANET_ASSOCIATION_TERMS):
        super().__init__()
        self.output = output
        configs = [dict(term, outputs=term.get('outputs', [output])) if isinstance(term, dict)
                   else term for term in losses]
        self.terms = build_loss_terms(configs, type(self).__name__)
        for term in self.terms:
            if term.outputs != [output]:
                raise ValueError(f'{type(self).__name__}: term {term.name!r} sets '
                                 f'outputs={term.outputs}, the constraint applies to [{output}]')

    def forward(self, outputs: Sequence[torch.Tensor], target: torch.Tensor) -> dict:
        return {f'loss_{term.name}': term(outputs, target) for term in self.terms}


@MODELS.register_module()
class NoAssociationConstraint(BackgroundSupervision):
    """The "off" variant: same arguments and keys as ``BackgroundSupervision``, every value zero."""

    def forward(self, outputs: Sequence[torch.Tensor], target: torch.Tensor) -> dict:
        return {key: target.new_zeros(()) for key in self.loss_keys}
