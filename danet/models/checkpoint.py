"""Reading weights safely and checking them against a model: the one place for both.

Every checkpoint the platform did not write for resuming is read by :func:`read_checkpoint`
(``torch.load(weights_only=True)``; a pickle asking for more is refused by
:func:`refuse_unsafe`). :func:`check_state_dict` is the one key check: the converters run it on
official weights, :func:`load_weights` (``init_model``) on platform checkpoints.
"""
import pickle
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn


class CheckpointMismatchError(ValueError):
    """The weights do not fit the model; the message lists every problem."""


@contextmanager
def refuse_unsafe(path: str | Path):
    """Turn ``torch.load(weights_only=True)``'s refusal of ``path`` into a ``ValueError`` that
    names what the pickle asks for and how to keep only the weights of a file one trusts."""
    try:
        yield
    except pickle.UnpicklingError:
        try:
            needs = ', '.join(torch.serialization.get_unsafe_globals_in_checkpoint(path))
        except Exception:  # noqa: BLE001 - not even a readable archive
            needs = 'objects other than tensors and plain data'
        raise ValueError(
            f'{path}: refused to unpickle, it needs {needs} (loading it could run code). '
            'Only weights-only checkpoints are read. If you trust the file, keep its weights: '
            f'torch.save(torch.load(SRC, weights_only=False)["state_dict"], DST)') from None


def read_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors stored in ``path``: a bare state dict or ``{'state_dict': ...}``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint not found: {path}')
    with refuse_unsafe(path):
        stored = torch.load(path, map_location='cpu', weights_only=True)
    state = stored.get('state_dict', stored) if isinstance(stored, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointMismatchError(f'{path}: not a checkpoint; expected a dict of tensors or '
                                      'a dict with a "state_dict" entry')
    return state


def check_state_dict(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Raise ``CheckpointMismatchError`` listing every missing, unexpected or mis-shaped key of
    ``state`` for ``model``, and every shared parameter whose copies in ``state`` differ."""
    expected = model.state_dict(keep_vars=True)
    problems = [f'missing key: {k}' for k in expected if k not in state]
    problems += [f'unexpected key: {k}' for k in state if k not in expected]
    problems += [f'shape mismatch at {k}: checkpoint {tuple(v.shape)}, '
                 f'model {tuple(expected[k].shape)}'
                 for k, v in state.items() if k in expected and v.shape != expected[k].shape]
    aliases = defaultdict(list)  # one parameter shared by several modules -> all its keys
    for key, tensor in expected.items():
        aliases[id(tensor)].append(key)
    for keys in aliases.values():
        present = [k for k in keys if k in state and state[k].shape == expected[k].shape]
        if any(not torch.equal(state[present[0]], state[k]) for k in present[1:]):
            problems.append(f'shared parameter differs between its copies: {", ".join(present)}')
    if problems:
        raise CheckpointMismatchError(
            f'{source} does not fit {type(model).__name__} ({len(problems)} problems; another '
            'architecture, or official weights not converted with '
            'tools/convert_checkpoint.py?):\n  ' + '\n  '.join(problems))


def load_weights(model: nn.Module, checkpoint: str | Path) -> None:
    """Load ``checkpoint`` into ``model`` after :func:`check_state_dict`."""
    state = read_checkpoint(checkpoint)
    check_state_dict(model, state, str(checkpoint))
    model.load_state_dict(state)
