"""Official DANet / MPRNet / PReNet-family checkpoints -> platform (MMEngine-style) checkpoints.

``convert_checkpoint`` reads an untrusted file with ``torch.load(weights_only=True)``, maps its keys
onto our generator with the generator class's ``official_keys``, checks them against a freshly
built one (``danet.models.checkpoint.check_state_dict``: every missing, unexpected or mis-shaped
key, and every shared parameter whose copies differ, in one error) and only then writes
``{'meta': ..., 'state_dict': {'generator.<key>': tensor}}`` atomically. The archs are the
registered generators that define ``official_keys``, by lower-case name (``official_archs``).
"""
from pathlib import Path

import torch

from danet.models import generators
from danet.models.checkpoint import CheckpointMismatchError, check_state_dict, read_checkpoint
from danet.registry import MODELS
from danet.utils.fileio import atomic_path

CONVERTER_VERSION = 1
GENERATOR_PREFIX = 'generator.'


def official_archs() -> dict[str, str]:
    """arch (lower-case name) -> registered generator whose class maps official keys."""
    return generators(having='official_keys')


def convert_state_dict(state_dict: dict[str, torch.Tensor], arch: str,
                       source: str = 'checkpoint') -> dict[str, torch.Tensor]:
    """Map official keys for ``arch`` onto our generator's keys and validate them."""
    archs = official_archs()
    if arch not in archs:
        raise ValueError(f'unknown arch {arch!r}; choose from {", ".join(archs)}')
    generator = MODELS.build(dict(type=archs[arch]))
    converted = generator.official_keys(state_dict)
    check_state_dict(generator, converted, source)
    return converted


def convert_checkpoint(src: str | Path, dst: str | Path, arch: str) -> dict:
    """Convert the official checkpoint ``src`` into a platform checkpoint ``dst``; return meta."""
    official = {k.removeprefix('module.'): v for k, v in read_checkpoint(src).items()}
    converted = convert_state_dict(official, arch, source=str(src))
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
