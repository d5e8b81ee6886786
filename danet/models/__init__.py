"""Generators, losses, the model wrapper and checkpoints; members register in ``MODELS`` when the
registry is first queried (``danet.registry``)."""
from torch import nn

from danet.registry import MODELS


class Generator(nn.Module):
    """Base of the platform's generators (the generator contract, ``docs/architecture.md``):
    ``forward(x)`` takes B×3×H×W in [0, 1] and returns a list of tensors, final image first;
    inputs must have sides divisible by ``size_divisor``. A generator that reads its authors'
    released weights defines ``official_keys(state_dict) -> state_dict`` (their keys -> ours)."""

    size_divisor = 1


def generators(having: str | None = None) -> dict[str, str]:
    """Lower-case name -> registered name of every ``Generator`` in ``MODELS`` (with the
    attribute ``having``, if given): the name maps of the benchmarks and the converters."""
    MODELS.import_from_location()
    return {name.lower(): name for name, cls in sorted(MODELS.module_dict.items())
            if isinstance(cls, type) and issubclass(cls, Generator)
            and (having is None or hasattr(cls, having))}
