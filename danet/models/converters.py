"""Foreign checkpoints (official DANet / MPRNet / PReNet-family releases, or any registered
generator's, plug-ins included) -> platform (MMEngine-style) checkpoints.

``convert_checkpoint`` reads an untrusted file with ``torch.load(weights_only=True)``
(``read_checkpoint`` finds the tensors), renames its keys by the ``--revise-keys`` rules
(``danet.models.checkpoint.revise_keys``; default: drop ``module.``), maps them with the generator
class's ``official_keys`` where it defines one, checks them against a freshly built generator
(``check_state_dict``: every missing, unexpected or mis-shaped key, and every shared parameter
whose copies differ, in one error) and only then writes
``{'meta': ..., 'state_dict': {'generator.<key>': tensor}}`` atomically. The generator is an arch
(a registered generator by lower-case name, ``generators()``) or a config's ``model.generator``
(its ``custom_imports`` load a plug-in).
"""
from pathlib import Path

import torch
from mmengine.registry import DefaultScope

from danet.models.base import generators
from danet.models.checkpoint import (
    DEFAULT_REVISE_KEYS,
    GENERATOR_PREFIX,
    CheckpointMismatchError,
    check_state_dict,
    read_checkpoint,
    revise_keys,
)
from danet.registry import MODELS, SCOPE
from danet.utils.config import load_config
from danet.utils.fileio import atomic_path

CONVERTER_VERSION = 2


def official_archs() -> dict[str, str]:
    """arch (lower-case name) -> registered generator whose class maps official keys."""
    return generators(having='official_keys')


def build_generator(arch: str | None = None, config: str | Path | None = None) -> torch.nn.Module:
    """The generator named ``arch`` (lower-case registered name, default arguments) or built
    from ``config``'s ``model.generator``; ``ValueError`` naming the choices."""
    if (arch is None) == (config is None):
        raise ValueError('give an arch or a config (not both)')
    if config is not None:
        cfg = load_config(config)  # imports the config's custom_imports (plug-ins)
        generator_cfg = cfg.get('model', {}).get('generator')
        if generator_cfg is None:
            raise KeyError(f'{config} has no model.generator')
    else:
        archs = generators()
        if arch not in archs:
            raise ValueError(f'unknown arch {arch!r}; choose from {", ".join(archs)}, or give '
                             "--config CONFIG for a plug-in's generator")
        generator_cfg = dict(type=archs[arch])
    with DefaultScope.overwrite_default_scope(SCOPE):
        return MODELS.build(generator_cfg)


def convert_state_dict(state_dict: dict[str, torch.Tensor], generator: torch.nn.Module,
                       source: str = 'checkpoint',
                       key_rules=DEFAULT_REVISE_KEYS) -> dict[str, torch.Tensor]:
    """Rename ``state_dict``'s keys (``key_rules``, then the generator's ``official_keys`` if it
    has one) onto ``generator``'s keys and validate them."""
    converted = revise_keys(state_dict, key_rules, source)
    if hasattr(generator, 'official_keys'):
        converted = generator.official_keys(converted)
    check_state_dict(generator, converted, source)
    return converted


def convert_checkpoint(src: str | Path, dst: str | Path, arch: str | None = None,
                       config: str | Path | None = None, key_rules=DEFAULT_REVISE_KEYS) -> dict:
    """Convert the foreign checkpoint ``src`` into a platform checkpoint ``dst`` for the generator
    ``arch`` or ``config``'s; return meta."""
    generator = build_generator(arch, config)
    converted = convert_state_dict(read_checkpoint(src), generator, str(src), key_rules)
    meta = dict(source=str(Path(src).resolve()), arch=arch or type(generator).__name__,
                converter_version=CONVERTER_VERSION, num_tensors=len(converted),
                revise_keys=[list(rule) for rule in key_rules])
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
