"""Official DANet / MPRNet / PReNet-family checkpoints -> platform (MMEngine-style) checkpoints.

``convert_checkpoint`` reads an untrusted file with ``torch.load(weights_only=True)``, maps its keys
onto our generator, checks them against a freshly built one (every missing, unexpected or
mis-shaped key, and every shared parameter whose copies differ, in one error) and only then
writes ``{'meta': ..., 'state_dict': {'generator.<key>': tensor}}`` atomically.
"""
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from danet.registry import MODELS
from danet.utils.fileio import atomic_path

CONVERTER_VERSION = 1
GENERATOR_PREFIX = 'generator.'


class CheckpointMismatchError(ValueError):
    """The checkpoint does not fit the generator; the message lists every problem."""


def _danet_from_official(state_dict: dict) -> dict:
    from danet.models.danet.official import from_official
    return from_official(state_dict)


def _prenet_from_official(state_dict: dict) -> dict:
    """PReNet keys: gates ``conv_[ifgozb]`` go to ``recurrent``, ``res_convK`` to ``resblocks``."""
    def ours(key: str) -> str:
        head = key.split('.', 1)[0]
        if head.startswith('res_conv'):
            return 'resblocks.' + key
        if head in ('conv_i', 'conv_f', 'conv_g', 'conv_o', 'conv_z', 'conv_b'):
            return 'recurrent.' + key
        return key
    return {ours(k): v for k, v in state_dict.items()}


# arch -> (generator type in MODELS, official-key -> our-key mapping)
ARCHS: dict[str, tuple[str, Callable[[dict], dict]]] = {
    'mprnet': ('MPRNet', dict),
    'danet': ('DANet', _danet_from_official),
    'prenet': ('PReNet', _prenet_from_official),
    'prn': ('PRN', _prenet_from_official),
    'prenet_r': ('PReNet_r', _prenet_from_official),
    'prn_r': ('PRN_r', _prenet_from_official),
    'prenet_gru': ('PReNet_GRU', _prenet_from_official),
    'prenet_x': ('PReNet_x', _prenet_from_official),
    # the ablation PReNet_LSTM and real-photo Generator_lstm files: PReNet's keys and shapes
    'prenet_lstm': ('PReNet_LSTM', _prenet_from_official),
    'prenet_real': ('PReNet_real', _prenet_from_official),
}


def load_official_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of an official checkpoint: a bare state_dict or ``{'state_dict': ...}``,
    with any DataParallel ``module.`` prefix removed."""
    checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(f'{path}: expected a dict, found {type(checkpoint).__name__}')
    state_dict = checkpoint.get('state_dict', checkpoint)
    bad = [k for k, v in state_dict.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointMismatchError(f'{path}: entries that are not tensors: {", ".join(bad)}')
    return {k.removeprefix('module.'): v for k, v in state_dict.items()}


def check_against(generator: nn.Module, state_dict: dict[str, torch.Tensor], source: str) -> None:
    """Raise ``CheckpointMismatchError`` listing every key that does not fit ``generator``."""
    expected = generator.state_dict(keep_vars=True)
    problems = [f'missing key: {k}' for k in expected if k not in state_dict]
    problems += [f'unexpected key: {k}' for k in state_dict if k not in expected]
    problems += [f'shape mismatch at {k}: checkpoint {tuple(v.shape)}, '
                 f'model {tuple(expected[k].shape)}'
                 for k, v in state_dict.items() if k in expected and v.shape != expected[k].shape]
    aliases = defaultdict(list)  # one parameter shared by several modules -> all its keys
    for key, tensor in expected.items():
        aliases[id(tensor)].append(key)
    for keys in aliases.values():
        present = [k for k in keys if k in state_dict and state_dict[k].shape == expected[k].shape]
        if any(not torch.equal(state_dict[present[0]], state_dict[k]) for k in present[1:]):
            problems.append(f'shared parameter differs between its copies: {", ".join(present)}')
    if problems:
        raise CheckpointMismatchError(
            f'{source} does not fit {type(generator).__name__} ({len(problems)} problems):\n  '
            + '\n  '.join(problems))


def convert_state_dict(state_dict: dict[str, torch.Tensor], arch: str,
                       source: str = 'checkpoint') -> dict[str, torch.Tensor]:
    """Map official keys for ``arch`` onto our generator's keys and validate them."""
    if arch not in ARCHS:
        raise ValueError(f'unknown arch {arch!r}; choose from {", ".join(ARCHS)}')
    generator_type, mapping = ARCHS[arch]
    converted = mapping(state_dict)
    check_against(MODELS.build(dict(type=generator_type)), converted, source)
    return converted


def convert_checkpoint(src: str | Path, dst: str | Path, arch: str) -> dict:
    """Convert the official checkpoint ``src`` into a platform checkpoint ``dst``; return meta."""
    converted = convert_state_dict(load_official_state_dict(src), arch, source=str(src))
    meta = dict(source=str(Path(src).resolve()), arch=arch, converter_version=CONVERTER_VERSION,
                num_tensors=len(converted))
    checkpoint = dict(meta=meta, state_dict={GENERATOR_PREFIX + k: v.contiguous()
                                             for k, v in converted.items()})
    with atomic_path(dst) as tmp:
        torch.save(checkpoint, tmp)
    return meta


# PReNet's release (csdwren/PReNet logs/): model folder or file name -> arch
PRENET_RELEASE = {'PRN6': 'prn', 'PRN6_r': 'prn_r', 'PReNet6': 'prenet', 'PReNet6_r': 'prenet_r',
                  'PReNet5_LSTM': 'prenet_lstm', 'PReNet6_LSTM': 'prenet_lstm',
                  'PReNet7_LSTM': 'prenet_lstm', 'PReNet6_RecSSIM': 'prenet_lstm',
                  'PReNet6_GRU': 'prenet_gru', 'PReNet6_x': 'prenet_x',
                  'PReNet1': 'prenet_real', 'PReNet2': 'prenet_real'}


def convert_prenet_release(src_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Convert every file of PReNet's release (``<set>/<model>/net_latest.pth`` and
    ``real/PReNet<k>.pth``) into ``out_dir/<set>_<model>.pth``; return the written paths."""
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    written = []
    for src in sorted(src_dir.rglob('*.pth')):
        model_dir = src.parent if src.name == 'net_latest.pth' else src.with_suffix('')
        if model_dir.name not in PRENET_RELEASE:
            raise CheckpointMismatchError(f'{src}: not a file of PReNet\'s release (known: '
                                          f'{", ".join(PRENET_RELEASE)})')
        dst = out_dir / f'{model_dir.parent.name}_{model_dir.name}.pth'
        convert_checkpoint(src, dst, PRENET_RELEASE[model_dir.name])
        written.append(dst)
    if not written:
        raise CheckpointMismatchError(f'{src_dir}: no .pth files found')
    return written
