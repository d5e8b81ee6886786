"""LPIPS v0.1 (AlexNet) from local weights only: nothing is downloaded at run time."""
import warnings
from pathlib import Path

import lpips
import numpy as np
import torch

from danet.evaluation.lpips_weights import BACKBONE_PATH

# lpips' alexnet splits torchvision's alexnet().features into slices; convs keep their index.
_FEATURE_SLICE = {0: 'slice1', 3: 'slice2', 6: 'slice3', 8: 'slice4', 10: 'slice5'}


class LPIPSScorer:
    """LPIPS distance (``lpips`` v0.1 linear layers over the ImageNet AlexNet backbone).

    Call it with two RGB images of one size: uint8 H×W×3 (or H×W grayscale) numpy arrays, or
    float 3×H×W tensors in [0, 1]. Lower means more similar.
    """

    def __init__(self, backbone_path: str | Path = BACKBONE_PATH, device: str = 'cpu'):
        backbone_path = Path(backbone_path)
        if not backbone_path.is_file():
            raise FileNotFoundError(
                f'LPIPS AlexNet backbone weights not found at {backbone_path}; run `make install` '
                '(it runs `python -m danet.evaluation.lpips_weights`)')
        features = torch.load(backbone_path, map_location='cpu', weights_only=True)
        self.device = torch.device(device)
        with warnings.catch_warnings():  # lpips still passes torchvision's deprecated `pretrained`
            warnings.filterwarnings('ignore', category=UserWarning, module='torchvision')
            self.model = lpips.LPIPS(net='alex', version='0.1', pretrained=True, pnet_rand=True,
                                     verbose=False)
        self.model.net.load_state_dict(_to_slices(features, backbone_path))
        self.model.to(self.device).eval()

    @torch.no_grad()
    def __call__(self, img, ref) -> float:
        a, b = _to_signed_batch(img).to(self.device), _to_signed_batch(ref).to(self.device)
        if a.shape != b.shape:
            raise ValueError(f'LPIPS inputs differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}')
        return float(self.model(a, b).item())


def _to_slices(features: dict, path: Path) -> dict:
    state = {}
    for key, value in features.items():
        index, _, param = key.partition('.')
        if not index.isdigit() or int(index) not in _FEATURE_SLICE:
            raise ValueError(f'{path}: unexpected key {key!r} for alexnet().features')
        state[f'{_FEATURE_SLICE[int(index)]}.{key}'] = value
    return state


def _to_signed_batch(img) -> torch.Tensor:
    """uint8 HWC / HW array or float CHW tensor in [0, 1] → float 1×3×H×W in [-1, 1]."""
    if isinstance(img, np.ndarray):
        if img.dtype != np.uint8:
            raise TypeError(f'LPIPS expects uint8 arrays, got {img.dtype}')
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        x = torch.tensor(img).permute(2, 0, 1).float() / 255.0
    elif isinstance(img, torch.Tensor) and img.is_floating_point():
        x = img.detach().float()
    else:
        raise TypeError(f'LPIPS expects a uint8 numpy array or a float tensor, got {type(img)}')
    if x.ndim != 3 or x.shape[0] != 3:
        raise ValueError(f'LPIPS expects 3-channel images, got shape {tuple(x.shape)}')
    return (x * 2 - 1).unsqueeze(0)
