"""Shared helpers of the Restormer/DRSformer golden tests: the authors' outputs in tests/data.

The golden files were made outside the repo by a script ``make_golden.py`` (docs/reproductions.md,
Restormer and DRSformer, "Golden files, and how they were made"): the authors' arch files as
released, run with einops installed only there, at ``SMALL`` widths, every tensor redrawn from a
seeded generator (weights perturbed around their init, layer-norm weights 1 + N(0, 0.2), biases,
temperatures and TKSA's attention weights perturbed too), on a 2×3×16×24 input. Each case
holds ``kwargs`` (our generator's arguments beyond ``SMALL``), the authors' ``state_dict`` (their
key names), ``input`` and ``output``.
"""
from pathlib import Path

import torch

from danet.models.converters import GENERATOR_PREFIX, convert_checkpoint
from danet.registry import MODELS

DATA = Path(__file__).resolve().parents[1] / 'data'
SMALL = dict(dim=4, num_blocks=[1, 1, 1, 1], heads=[1, 2, 2, 4], ffn_expansion_factor=2.66)


def golden(name: str) -> dict:
    return torch.load(DATA / f'{name}_authors_random.pth', weights_only=True)


def write_config(path: Path, generator: dict) -> Path:
    path.write_text(f'model = dict(type="RestorationModel", generator={generator!r})\n')
    return path


def converted_generator(tmp_path: Path, arch: str, case: dict) -> torch.nn.Module:
    """The case's release-style file (``{'params': state_dict}``) converted with
    ``convert_checkpoint --config`` and loaded strictly into a fresh generator."""
    generator_cfg = dict(type=arch, **SMALL, **case['kwargs'])
    config = write_config(tmp_path / 'small.py', generator_cfg)
    torch.save({'params': case['state_dict']}, tmp_path / 'release.pth')
    convert_checkpoint(tmp_path / 'release.pth', tmp_path / 'ours.pth', config=config)
    state = torch.load(tmp_path / 'ours.pth', weights_only=True)['state_dict']
    generator = MODELS.build(generator_cfg).eval()
    generator.load_state_dict({k.removeprefix(GENERATOR_PREFIX): v for k, v in state.items()})
    return generator


def assert_matches(generator: torch.nn.Module, case: dict) -> None:
    with torch.no_grad():
        (ours,) = generator(case['input'])
    assert (ours - case['output']).abs().max().item() <= 1e-4
    assert (case['output'] - case['input']).std() > 100 * 1e-4   # far above the tolerance


def count_on_meta(cfg: dict) -> int:
    """Parameters of the generator ``cfg`` built on the meta device (no memory, no init)."""
    with torch.device('meta'):
        return sum(p.numel() for p in MODELS.build(cfg).parameters())
