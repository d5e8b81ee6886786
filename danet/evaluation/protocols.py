"""Evaluation protocols: the conventions under which a paper's PSNR/SSIM were computed.

A protocol fixes how a float prediction becomes the uint8 image that is scored (rounded or
truncated), how Y is taken (rounded uint8 or float), the PSNR peak, the SSIM variant, the border
crop, and how grayscale and palette files are read (as the paper's script reads them; see
``danet.apis.folder_eval.read_image``). Protocols are registered in ``TASK_UTILS`` and built from
``dict(type=NAME, crop_border=N)`` (or just ``NAME``); ``conventions()`` is what every
results file records.

- ``mprnet_matlab`` (default): ``evaluate_PSNR_SSIM.m`` of MPRNet/DANet.
- ``prenet_matlab``: PReNet's ``test_*.py`` + ``statistic/*.m``.
- ``basicsr``: BasicSR's ``calculate_psnr/ssim(test_y_channel=True, crop_border=N)``.
- ``drsformer_statistic``: DRSformer's DID-Data/DDN-Data ``statistic.m`` (its Rain200L/H and
  SPA-Data script is MPRNet's ``evaluate_PSNR_SSIM.m``, as is Restormer's: ``mprnet_matlab``).
"""
import numpy as np

from danet.evaluation import functional as F
from danet.registry import TASK_UTILS

DEFAULT_PROTOCOL = 'mprnet_matlab'
METRICS_VERSION = 1
"""The metric code's version: raise it with any change to how a protocol or metric computes its
number, so cached evaluations (``ablations rank``'s cache keys) are not reused."""


class EvalProtocol:
    """Base class; subclasses set the class attributes below.

    Args:
        crop_border: pixels removed from each side before PSNR/SSIM.
    """

    name = ''
    rounding = 'round'            # prediction → uint8: 'round' or 'truncate'
    y_channel = ''                # label of ``luma`` in the results file
    ssim_variant = f'gaussian{F.SSIM_WINDOW}_sigma{F.SSIM_SIGMA}_valid'
    ssim_downsample = False       # Wang's ssim.m pre-step
    palette_as_indices = True     # MATLAB imread returns a palette image's indices
    gray_ok = True                # the script scores H×W images as they are

    def __init__(self, crop_border: int = 0):
        if isinstance(crop_border, bool) or not isinstance(crop_border, int) or crop_border < 0:
            raise ValueError(f'{self.name}: crop_border must be a non-negative int, '
                             f'got {crop_border!r}')
        self.crop_border = crop_border

    def __repr__(self) -> str:
        return f'{self.name}(crop_border={self.crop_border})'

    def conventions(self) -> dict:
        """Name, parameters and arithmetic of this protocol, as stored in every results file."""
        return {'protocol': self.name, 'crop_border': self.crop_border,
                'quantize': self.rounding, 'y_channel': self.y_channel, 'peak': int(F.PEAK),
                'ssim': ('wang_ssim_m_downsample_' if self.ssim_downsample else '')
                + self.ssim_variant}

    def quantize(self, img) -> np.ndarray:
        """Float 3×H×W tensor in [0, 1] → the uint8 H×W×3 image this protocol scores."""
        return F.quantize(img, self.rounding)

    def luma(self, img: np.ndarray) -> np.ndarray:
        """Y of a uint8 RGB image on the 0–255 scale, float64."""
        raise NotImplementedError

    def channels(self, img: np.ndarray, color_space: str) -> np.ndarray:
        """The float64 plane(s) scored for ``color_space`` ('y' or 'rgb'), border cropped."""
        if color_space not in F.COLOR_SPACES:
            raise ValueError(f'color_space must be one of {F.COLOR_SPACES}, got {color_space!r}')
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or not (
                img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)):
            raise ValueError(f'{self.name}: expected a uint8 H×W×3 or H×W image, got '
                             f'{getattr(img, "dtype", type(img).__name__)} '
                             f'{getattr(img, "shape", "")}')
        if img.ndim == 2 and not self.gray_ok:
            raise ValueError(f'{self.name}: cannot score a grayscale (H×W) image (a gray or '
                             "palette file as MATLAB reads it): the protocol's script calls "
                             'rgb2ycbcr, which rejects it; score it under mprnet_matlab or basicsr')
        out = self.luma(img) if color_space == 'y' and img.ndim == 3 else img.astype(np.float64)
        c = self.crop_border
        return out[c:-c, c:-c] if c else out

    def psnr(self, pred: np.ndarray, gt: np.ndarray, color_space: str = 'y') -> float:
        return F.psnr(*self._pair(pred, gt, color_space))

    def ssim(self, pred: np.ndarray, gt: np.ndarray, color_space: str = 'y') -> float:
        return F.ssim(*self._pair(pred, gt, color_space), downsample=self.ssim_downsample)

    def _pair(self, pred, gt, color_space):
        a, b = self.channels(pred, color_space), self.channels(gt, color_space)
        if a.shape != b.shape:
            raise ValueError(f'{self.name}: prediction {pred.shape} and ground truth '
                             f'{gt.shape} give different {color_space} planes '
                             f'{a.shape} vs {b.shape}')
        return a, b


@TASK_UTILS.register_module(name='mprnet_matlab')
class MPRNetMatlab(EvalProtocol):
    """``evaluate_PSNR_SSIM.m``: rounded uint8 prediction, Y of ``rgb2ycbcr`` on uint8
    (rounded), peak 255, Wang's ``ssim_index`` 'valid'; gray and palette files scored raw."""

    name = 'mprnet_matlab'
    y_channel = 'matlab_rgb2ycbcr_uint8'

    def luma(self, img):
        return F.rgb2y(img).astype(np.float64)


@TASK_UTILS.register_module(name='prenet_matlab')
class PReNetMatlab(EvalProtocol):
    """PReNet: ``np.uint8(255 * clamp(out))`` (truncation), Y of ``rgb2ycbcr(im2double(img))``
    (float), peak 255 (``psnr.m`` on [0, 1]), Wang's ``ssim.m`` on Y·255 with its
    ``max(1, round(min(H, W) / 256))`` downsampling; grayscale/palette files are refused
    (MATLAB's ``rgb2ycbcr`` rejects H×W input, so the script cannot score them)."""

    name = 'prenet_matlab'
    rounding = 'truncate'
    y_channel = 'matlab_rgb2ycbcr_double'
    ssim_downsample = True
    gray_ok = False

    def luma(self, img):
        return F.rgb2y_double(img)


@TASK_UTILS.register_module(name='drsformer_statistic')
class DRSformerStatistic(PReNetMatlab):
    """DRSformer's ``evaluations/Evaluation_DID-Data_DDN-Data/statistic.m``: the arithmetic of
    ``prenet_matlab`` (Y of ``rgb2ycbcr(im2double(img))``, its ``psnr.m`` with peak 1, Wang's
    ``ssim.m`` on Y·255 with the downsampling), on outputs its ``test.py`` rounds
    (``img_as_ubyte``) instead of truncating."""

    name = 'drsformer_statistic'
    rounding = 'round'


@TASK_UTILS.register_module(name='basicsr')
class BasicSR(EvalProtocol):
    """BasicSR ``calculate_psnr/ssim(test_y_channel=True)``: rounded uint8 prediction
    (``tensor2img``), float32 Y (not rounded), peak 255, Wang SSIM 'valid'; files read as
    ``cv2.imread``: grayscale scored raw, palette expanded to RGB."""

    name = 'basicsr'
    y_channel = 'basicsr_float32'
    palette_as_indices = False

    def luma(self, img):
        return F.rgb2y_basicsr(img)


def protocol_names() -> list[str]:
    """Registered protocol names."""
    TASK_UTILS.import_from_location()
    return sorted(k for k, v in TASK_UTILS.module_dict.items()
                  if isinstance(v, type) and issubclass(v, EvalProtocol))


def build_protocol(spec=None) -> EvalProtocol:
    """A protocol from None (the default), a name, ``dict(type=NAME, ...)`` or an instance."""
    if isinstance(spec, EvalProtocol):
        return spec
    spec = dict(type=spec or DEFAULT_PROTOCOL) if spec is None or isinstance(spec, str) \
        else dict(spec)
    if spec.get('type') not in protocol_names():
        raise ValueError(f'unknown evaluation protocol {spec.get("type")!r}; choose one of '
                         f'{", ".join(protocol_names())}')
    return TASK_UTILS.build(spec)
