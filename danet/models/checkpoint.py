"""Reading weights safely, renaming their keys and checking them against a model: the one place.

Every checkpoint the platform did not write for resuming is read by :func:`read_checkpoint`
(``torch.load(weights_only=True)``; a pickle asking for more is refused by
:func:`refuse_unsafe`; the tensors are found under ``state_dict``, ``params`` or ``model``, or at
the top level). Foreign key names are fixed by rules ``REGEX=REPL`` (``--revise-keys``, applied in
order with ``re.sub``, MMEngine's ``revise_keys`` convention; default: drop ``module.``), and a
generator's own state dict is placed under ``generator.`` (:func:`fit_keys`).
:func:`check_state_dict` is the one key check: every missing, unexpected or mis-shaped key is
listed and the file refused.
"""
import pickle
import re
import zipfile
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn


class CheckpointMismatchError(ValueError):
    """The weights do not fit the model; the message lists every problem."""


STATE_KEYS = ('state_dict', 'params', 'model')
"""Where checkpoints keep their tensors: MMEngine, BasicSR, and many research repositories."""
DEFAULT_REVISE_KEYS = ((r'^module\.', ''),)
GENERATOR_PREFIX = 'generator.'


def parse_revise_keys(specs: list[str] | None) -> tuple[tuple[str, str], ...]:
    """``['REGEX=REPL', ...]`` → rules, split at the first ``=`` not written ``\\=`` (a regex
    containing ``=``, e.g. the lookahead ``(?=...)``, writes it ``\\=``); none given → the
    default (drop ``module.``). ``ValueError`` naming the option and a malformed rule, regex or
    replacement (a group it does not have, a trailing backslash)."""
    if not specs:
        return DEFAULT_REVISE_KEYS
    rules = []
    for spec in specs:
        pattern, replacement = _split_rule(spec)
        if pattern is None or not pattern:
            raise ValueError(f'--revise-keys {spec!r}: expected REGEX=REPL, e.g. '
                             "'^module\\.=' (drop a prefix) or '^net\\.=generator.' (write "
                             "an = inside REGEX as \\=)")
        try:
            compiled = re.compile(pattern)
        except re.error as err:
            raise ValueError(f'--revise-keys {spec!r}: bad regular expression {pattern!r} '
                             f'({err})') from None
        try:
            _groups_like(compiled).match('').expand(replacement)
        except (re.error, IndexError) as err:
            raise ValueError(f'--revise-keys {spec!r}: bad replacement {replacement!r} for '
                             f'{pattern!r} ({err})') from None
        rules.append((pattern, replacement))
    return tuple(rules)


def _split_rule(spec: str) -> tuple[str | None, str]:
    """``REGEX=REPL`` at the first ``=`` not escaped as ``\\=`` (which becomes ``=``)."""
    pattern, k = [], 0
    while k < len(spec):
        if spec[k] == '\\' and k + 1 < len(spec):
            pattern.append('=' if spec[k + 1] == '=' else spec[k:k + 2])
            k += 2
        elif spec[k] == '=':
            return ''.join(pattern), spec[k + 1:]
        else:
            pattern.append(spec[k])
            k += 1
    return None, ''


def _groups_like(compiled: re.Pattern) -> re.Pattern:
    """A pattern matching '' with the groups (numbered and named) of ``compiled``: expanding a
    replacement on its match checks every group reference without a key to match."""
    names = {index: name for name, index in compiled.groupindex.items()}
    return re.compile(''.join(f'(?P<{names[i]}>)' if i in names else '()'
                              for i in range(1, compiled.groups + 1)))


def revise_keys(state: dict[str, torch.Tensor], rules, source: str = 'checkpoint') -> dict:
    """``state`` with every rule applied in order to each key; two keys renamed to one raise
    ``CheckpointMismatchError``."""
    revised = {}
    for key, value in state.items():
        new = key
        for pattern, replacement in rules:
            new = re.sub(pattern, replacement, new)
        if new in revised:
            raise CheckpointMismatchError(f'{source}: --revise-keys renames two keys to {new!r} '
                                          f'(one of them {key!r}); make the rules more specific')
        revised[new] = value
    return revised


def fit_keys(model: nn.Module, state: dict[str, torch.Tensor], rules=DEFAULT_REVISE_KEYS,
             source: str = 'checkpoint') -> dict[str, torch.Tensor]:
    """``state`` revised by ``rules``; a generator's own state dict (no key under
    ``generator.``) loaded into a model that has a generator is placed under ``generator.``."""
    state = revise_keys(state, rules, source)
    if isinstance(getattr(model, 'generator', None), nn.Module) and \
            not any(k.startswith(GENERATOR_PREFIX) for k in state):
        state = {GENERATOR_PREFIX + k: v for k, v in state.items()}
    return state


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
    """The tensors stored in ``path``: a bare state dict or one under a key of ``STATE_KEYS``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint not found: {path}')
    with refuse_unsafe(path):
        try:
            stored = torch.load(path, map_location='cpu', weights_only=True)
        except (EOFError, RuntimeError, OSError, ValueError, zipfile.BadZipFile) as err:
            hint = (' (a .safetensors file: load it with safetensors.torch.load_file and '
                    'torch.save the dict)' if path.suffix == '.safetensors' else '')
            detail = ' '.join(str(err).split())[:300] or type(err).__name__
            raise ValueError(f'{path}: not a readable PyTorch checkpoint{hint}: {detail}'
                             ) from None
    state = stored
    if isinstance(stored, dict):
        state = next((stored[k] for k in STATE_KEYS if isinstance(stored.get(k), dict)), stored)
    if not isinstance(state, dict) or not state or \
            not all(isinstance(v, torch.Tensor) for v in state.values()):
        found = ', '.join(map(str, list(stored)[:8])) if isinstance(stored, dict) else \
            type(stored).__name__
        raise CheckpointMismatchError(
            f'{path}: not a checkpoint; expected a dict of tensors, bare or under one of '
            f'{", ".join(STATE_KEYS)} (found: {found})')
    return state


def check_state_dict(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Raise ``CheckpointMismatchError`` listing every missing, unexpected or mis-shaped key of
    ``state`` for ``model``, and every shared parameter whose copies in ``state`` differ; a model
    with a ``mismatch_hint(state) -> str | None`` method adds its line (e.g. which variant the
    file is)."""
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
        hint = getattr(model, 'mismatch_hint', lambda _: None)(state)
        raise CheckpointMismatchError(
            f'{source} does not fit {type(model).__name__} ({len(problems)} problems; another '
            'architecture, or key names to fix with --revise-keys REGEX=REPL or '
            'tools/convert_checkpoint.py?):\n  ' + '\n  '.join(problems)
            + (f'\n{hint}' if hint else ''))


def load_weights(model: nn.Module, checkpoint: str | Path, rules=DEFAULT_REVISE_KEYS) -> None:
    """Load ``checkpoint`` into ``model``: keys fitted by :func:`fit_keys`, then
    :func:`check_state_dict`."""
    state = fit_keys(model, read_checkpoint(checkpoint), rules, str(checkpoint))
    check_state_dict(model, state, str(checkpoint))
    model.load_state_dict(state)
