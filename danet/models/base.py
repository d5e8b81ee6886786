"""The generator contract: what every generator of ``danet/models`` (and of a plug-in) keeps.

``forward(x)`` takes B×3×H×W in [0, 1] and returns a list of tensors, final image first;
inputs must have sides divisible by ``size_divisor``. A generator that reads its authors'
released weights defines ``official_keys(state_dict) -> state_dict`` (their keys -> ours).
"""
import inspect

import torch
from torch import nn

from danet.registry import MODELS


class Generator(nn.Module):
    """Base of the platform's generators (the contract above, ``docs/architecture.md``)."""

    size_divisor = 1


def contract_outputs(generator: nn.Module, inputs: torch.Tensor, outputs) -> list[torch.Tensor]:
    """``outputs`` of ``generator(inputs)`` as a list, after checking the contract: a tensor or a
    non-empty list of tensors, the first (the final image) shaped as ``inputs``. ``ValueError``
    naming the class, its file and the contract otherwise."""
    found = [outputs] if isinstance(outputs, torch.Tensor) else outputs
    problem = None
    if not isinstance(found, list | tuple) or not found or \
            not all(isinstance(y, torch.Tensor) for y in found):
        problem = f'returned {type(outputs).__name__}' + (' (empty)' if not found else '')
    elif found[0].shape != inputs.shape:
        problem = (f'returned a final image of shape {tuple(found[0].shape)} for an input of '
                   f'shape {tuple(inputs.shape)}')
    if problem:
        cls = type(generator)
        where = inspect.getsourcefile(cls) or cls.__module__
        raise ValueError(f'{cls.__name__} ({where}): forward {problem}; the generator contract: '
                         'forward(x) takes B×3×H×W in [0, 1] and returns a list of tensors, the '
                         'final B×3×H×W image first (docs/extending.md)')
    return list(found)


def generators(having: str | None = None) -> dict[str, str]:
    """Lower-case name -> registered name of every ``Generator`` in ``MODELS`` (with the
    attribute ``having``, if given): the name maps of the benchmarks and the converters."""
    MODELS.import_from_location()
    return {name.lower(): name for name, cls in sorted(MODELS.module_dict.items())
            if isinstance(cls, type) and issubclass(cls, Generator)
            and (having is None or hasattr(cls, having))}
