"""Training checkpoints that load with ``torch.load(weights_only=True)``.

MMEngine stores the message hub's ``HistoryBuffer`` objects, numpy arrays and numpy scalars in
a checkpoint; unpickling those needs ``weights_only=False``, i.e. trusting the file to run
code. :class:`PlainCheckpointHook` rewrites them as plain data (dicts, lists, numbers) just
before a checkpoint is saved, and :func:`from_plain` rebuilds them after a weights-only load,
with the same values and dtypes, so a resume continues exactly.
"""
import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer

BUFFER = '__history_buffer__'
ARRAY = '__ndarray__'
_PLAIN = (torch.Tensor, str, bytes, int, float, bool, type(None), torch.Size, torch.dtype)


def to_plain(node, where: str = 'checkpoint'):
    """``node`` with history buffers, numpy arrays and numpy scalars as plain data; any other
    object raises ``TypeError`` naming where it is (it would not load weights-only)."""
    if isinstance(node, HistoryBuffer):
        log, count = node.data
        return {BUFFER: dict(log=to_plain(log), count=to_plain(count),
                             max_length=node.max_length)}
    if isinstance(node, np.ndarray):
        return {ARRAY: dict(data=node.tolist(), dtype=node.dtype.str)}
    if isinstance(node, np.generic):
        return node.item()
    if isinstance(node, dict):
        return type(node)((k, to_plain(v, f'{where}[{k!r}]')) for k, v in node.items())
    if isinstance(node, list | tuple):
        return type(node)(to_plain(v, f'{where}[{i}]') for i, v in enumerate(node))
    if isinstance(node, _PLAIN):
        return node
    raise TypeError(f'{where}: a {type(node).__name__} cannot be saved in a weights-only '
                    'checkpoint; store it as plain data (numbers, strings, lists, tensors)')


def from_plain(node):
    """Inverse of :func:`to_plain`."""
    if isinstance(node, dict):
        if set(node) == {BUFFER}:
            spec = node[BUFFER]
            return HistoryBuffer(from_plain(spec['log']), from_plain(spec['count']),
                                 spec['max_length'])
        if set(node) == {ARRAY}:
            return np.array(node[ARRAY]['data'], dtype=np.dtype(node[ARRAY]['dtype']))
        return type(node)((k, from_plain(v)) for k, v in node.items())
    if isinstance(node, list | tuple):
        return type(node)(from_plain(v) for v in node)
    return node


class PlainCheckpointHook(Hook):
    """Registered by ``DerainRunner`` on every run: saves checkpoints as plain data."""

    priority = 'LOWEST'  # after every hook that adds to the checkpoint

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in [k for k in checkpoint if k != 'state_dict']:
            checkpoint[key] = to_plain(checkpoint[key], f'checkpoint[{key!r}]')
