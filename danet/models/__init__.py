"""Generators, losses, the model wrapper and checkpoints; members register in ``MODELS`` when the
registry is first queried (``danet.registry``)."""
from danet.registry import MODELS


def generators(having: str = 'size_divisor') -> dict[str, str]:
    """Lower-case name -> registered name of every generator in ``MODELS`` (a class with a
    ``size_divisor``, the generator contract) that also has the attribute ``having``."""
    MODELS.import_from_location()
    return {name.lower(): name for name, cls in sorted(MODELS.module_dict.items())
            if isinstance(cls, type) and hasattr(cls, 'size_divisor') and hasattr(cls, having)}
