"""Python API: ``init_model`` (config + checkpoint → model) and ``derain`` (images → restored)."""
from danet.apis.inference import derain, init_model

__all__ = ['init_model', 'derain']
