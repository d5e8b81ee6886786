"""``--device`` values, checked before any work: a typo must not run on another device or skip."""
import re

import torch

DEVICE_FORM = re.compile(r'(cpu|cuda|mps)(:\d+)?')


def parse_device(text: str, option: str = '--device') -> torch.device:
    """The device ``text`` names (``cpu``, ``cuda``, ``cuda:N``, ``mps``), else ``ValueError``
    naming ``option``."""
    if not isinstance(text, str) or not DEVICE_FORM.fullmatch(text):
        raise ValueError(f'{option} {text!r}: not a device; give cpu, cuda, cuda:N or mps')
    return torch.device(text)


def unavailable(device: torch.device) -> str | None:
    """Why ``device`` cannot be used on this machine, or None."""
    if device.type == 'cuda':
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (device.index or 0) >= count:
            return f'{device} is not available here ({count} CUDA device(s) visible)'
    if device.type == 'mps' and not torch.backends.mps.is_available():
        return 'mps is not available here'
    return None


def check_device(text: str, option: str = '--device') -> str:
    """``text`` if it names a device available here, else ``ValueError`` naming ``option``."""
    why = unavailable(parse_device(text, option))
    if why:
        raise ValueError(f'{option} {text}: {why}')
    return text
