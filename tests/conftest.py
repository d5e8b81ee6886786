"""Shared pytest fixtures: the real data in ``../shared/data`` and the repository root."""
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """``$DANET_SHARED/data`` if set, else ``../shared/data`` beside the repository, else None."""
    env = os.environ.get('DANET_SHARED')
    candidate = Path(env) / 'data' if env else REPO_ROOT.parent / 'shared' / 'data'
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope='session')
def shared_data() -> Path:
    """The real deraining data; tests that need it skip with the reason when it is absent."""
    path = shared_data_dir()
    if path is None:
        pytest.skip('real data not found: set DANET_SHARED or place shared/ beside the repo '
                    '(expected ../shared/data)')
    return path


@pytest.fixture(scope='session')
def repo_root() -> Path:
    return REPO_ROOT


def _install_debian_tool(binary: str, *packages: str) -> str | None:
    import shutil
    import subprocess
    found = shutil.which(binary)
    if found or not shutil.which('apt-get'):
        return found
    try:  # a fresh machine has no package lists yet
        subprocess.run(['apt-get', 'update', '-q'], capture_output=True, timeout=300, check=True)
        subprocess.run(['apt-get', 'install', '-y', '-q', '--no-install-recommends', *packages],
                       capture_output=True, timeout=600, check=True)
    except (subprocess.SubprocessError, OSError):
        return None
    return shutil.which(binary)


@pytest.fixture(scope='session')
def debian_tool():
    """``debian_tool(binary, *packages)``: the path of ``binary``, installing the Debian
    ``packages`` with apt-get first if it is missing (as root on a fresh CI machine); None when
    that is impossible, for the test to skip with the reason."""
    return _install_debian_tool


@pytest.fixture(scope='session')
def slurm_cluster():
    """A one-node Slurm cluster (``tools/local_slurm.sh up``) for the session, ``SLURM_CONF``
    exported; torn down at the end unless it was already up. Skips, with the reason, when not
    root or when Slurm cannot be installed."""
    import subprocess
    import tempfile
    if os.geteuid() != 0:
        pytest.skip('Slurm tests need root (tools/local_slurm.sh starts the daemons as root)')
    script = str(REPO_ROOT / 'tools' / 'local_slurm.sh')
    state = os.environ.get('DANET_SLURM_DIR') or str(Path(tempfile.gettempdir()) / 'danet-slurm')
    env = dict(os.environ, DANET_SLURM_DIR=state)
    was_up = subprocess.run([script, 'status'], env=env, capture_output=True).returncode == 0
    up = subprocess.run([script, 'up'], env=env, capture_output=True, text=True, timeout=900)
    if up.returncode != 0:
        reason = up.stderr.strip().splitlines()[-1] if up.stderr.strip() else 'no message'
        if 'apt-get' in reason or 'install' in reason:
            pytest.skip(f'Slurm cannot be installed here: {reason}')
        pytest.fail(f'tools/local_slurm.sh up failed: {up.stderr[-2000:]}')
    old = os.environ.get('SLURM_CONF')
    os.environ['SLURM_CONF'] = str(Path(state) / 'slurm.conf')
    yield Path(state)
    if old is None:
        os.environ.pop('SLURM_CONF')
    else:
        os.environ['SLURM_CONF'] = old
    if not was_up:
        subprocess.run([script, 'down'], env=env, capture_output=True, timeout=120)


@pytest.fixture
def forget_package():
    """``forget_package('mynet')``: after the test, the package's modules and the types they
    registered in the danet registries are forgotten, so a later test may scaffold that name
    again (``new-model`` refuses a name that is importable or registered)."""
    names: list[str] = []
    yield names.append
    import sys

    from mmengine.registry import Registry

    import danet.registry as registries
    for name in names:
        for module in [m for m in sys.modules if m.split('.')[0] == name]:
            del sys.modules[module]
        for registry in vars(registries).values():
            if isinstance(registry, Registry):
                for key, cls in list(registry.module_dict.items()):
                    if getattr(cls, '__module__', '').split('.')[0] == name:
                        registry._module_dict.pop(key)
