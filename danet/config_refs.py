"""``danet::PATH`` config references: ``configs/PATH`` of the installed platform, from any folder.

``_base_ = ['danet::_base_/models/prenet.py']`` is MMEngine's cross-repository form. MMEngine
0.10.7 resolves ``pkg::`` only for a fixed table of OpenMMLab packages and through
``pkg_resources`` (gone from setuptools >= 81), so :func:`register_config_package` (run when
``danet`` is imported) resolves the ``danet::`` prefix itself and leaves every other reference to
MMEngine. The configs are found under ``danet/.mim/configs``: a link to the clone's ``configs/``
(editable install, ``PYTHONPATH``) or their copy installed as package data (``setup.cfg``).
"""
import difflib
from pathlib import Path

from mmengine.config import Config

PACKAGE_PREFIX = 'danet::'
SHIPPED_CONFIGS = Path(__file__).resolve().parent / '.mim' / 'configs'


def shipped_config(ref: str) -> Path:
    """The file of a shipped config named ``danet::PATH``; ``FileNotFoundError`` naming it."""
    relative = ref.removeprefix(PACKAGE_PREFIX)
    path = SHIPPED_CONFIGS / relative
    if not path.is_file():
        close = difflib.get_close_matches(relative, [str(p.relative_to(SHIPPED_CONFIGS)) for p in
                                                     SHIPPED_CONFIGS.rglob('*.py')], n=3)
        hint = f' Closest: {", ".join(PACKAGE_PREFIX + c for c in close)}.' if close else ''
        raise FileNotFoundError(f'{ref}: no such config shipped with the platform (looked in '
                                f'{SHIPPED_CONFIGS}).{hint}')
    return path


def register_config_package() -> None:
    """Make ``Config.fromfile`` resolve ``danet::PATH`` base references (idempotent). The base
    dicts get no ``_scope_``: every platform entry point builds in the ``danet`` scope."""
    original = Config._get_cfg_path
    if getattr(original, 'resolves_danet', False):
        return

    def get_cfg_path(cfg_path: str, filename: str):
        if cfg_path.startswith(PACKAGE_PREFIX):
            return str(shipped_config(cfg_path)), None
        return original(cfg_path, filename)

    get_cfg_path.resolves_danet = True
    Config._get_cfg_path = staticmethod(get_cfg_path)
