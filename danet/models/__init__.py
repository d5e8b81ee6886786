"""Generators, losses, the model wrapper and checkpoints. A model is one registered file here
(found by ``danet.registry``'s scan) and one config; the generator contract is in
``danet.models.base`` (re-exported here for plug-ins that import it from ``danet.models``)."""
from danet.models.base import Generator, contract_outputs, generators

__all__ = ['Generator', 'contract_outputs', 'generators']
