"""Evaluate-only release grids: ``--weights-dir`` moves every checkpoint they read, and
``ablations rank`` takes Restormer's and DRSformer's release grids into its default zoo where
their converted weights are there."""
import json

import pytest

from ablations import rank
from ablations.__main__ import main
from ablations.spec import WEIGHTS_ENV

RELEASE_GRIDS = {'restormer_release_rain13k': ['deraining.pth'],
                 'drsformer_release_rain200': ['Rain200H.pth'],
                 'drsformer_release_rain200l': ['Rain200L.pth'],
                 'prenet_readme_rain100l': ['Rain100L_PRN6.pth', 'Rain100L_PReNet6.pth',
                                            'Rain100L_PRN6_r.pth', 'Rain100L_PReNet6_r.pth']}


@pytest.fixture
def no_weights_env(monkeypatch):
    monkeypatch.setenv(WEIGHTS_ENV, '')   # restored after the test, whatever main() exports
    monkeypatch.delenv(WEIGHTS_ENV)


def _checkpoints(grid: str, capsys, *extra) -> list[str]:
    assert main(['plan', grid, '--json', *extra]) == 0
    return [run['checkpoint'] for run in json.loads(capsys.readouterr().out)]


@pytest.mark.parametrize('grid', sorted(RELEASE_GRIDS))
def test_weights_dir_moves_the_checkpoints_of_a_release_grid(grid, tmp_path, capsys,
                                                             no_weights_env):
    default = _checkpoints(grid, capsys)
    assert all(c.startswith('work_dirs/') for c in default)
    moved = _checkpoints(grid, capsys, '--weights-dir', str(tmp_path))
    assert moved == [str(tmp_path / name) for name in RELEASE_GRIDS[grid]]


def test_a_missing_weights_dir_is_one_line(tmp_path, capsys, no_weights_env):
    assert main(['plan', 'restormer_release_rain13k', '--weights-dir',
                 str(tmp_path / 'absent')]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: --weights-dir') and 'absent' in err and '\n' not in err


def test_default_zoo_takes_the_release_grids_whose_weights_are_there(tmp_path, monkeypatch,
                                                                    capsys):
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path))
    # no weights at all: every grid kept, so that rank names the missing checkpoint
    assert rank.default_zoo({'Rain100L': None}) == ['prenet_readme_rain100l',
                                                   'restormer_release_rain13k']
    (tmp_path / 'deraining.pth').write_bytes(b'')
    assert rank.default_zoo({'Rain100L': None}) == ['restormer_release_rain13k']
    assert 'prenet_readme_rain100l left out' in capsys.readouterr().out
    assert rank.default_zoo({'Test2800': None}) == ['restormer_release_rain13k']
    (tmp_path / 'Rain200H.pth').write_bytes(b'')
    (tmp_path / 'Rain200L.pth').write_bytes(b'')
    assert rank.default_zoo({'Mine': str(tmp_path)}) == ['restormer_release_rain13k',
                                                        'drsformer_release_rain200',
                                                        'drsformer_release_rain200l']
    methods, to_train = rank.zoo_methods(rank.default_zoo({'Rain200H': None}), tmp_path)
    assert not to_train
    assert [m.checkpoint for m in methods] == [tmp_path / 'Rain200H.pth']
