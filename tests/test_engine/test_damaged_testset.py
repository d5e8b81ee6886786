"""``tools/test.py --testsets NAME=DAMAGED.h5``: one error line naming the file, exit 2, whether
the damage shows when the set is opened or when an image is read in the test loop."""
import re
import shutil

import h5py
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from danet.registry import MODELS
from danet.utils.cli import run_main
from tests.test_engine.conftest import tiny_test_h5
from tools import test as test_tool


def _damage_header(path):
    with open(path, 'r+b') as f:
        f.write(b'\xff' * 16)  # the HDF5 signature


def _damage_image(path):
    with h5py.File(path, 'r+') as f:
        del f['lq/000003']  # opens fine; the loop fails at the fourth image


@pytest.mark.slow
@pytest.mark.parametrize('damage', [_damage_header, _damage_image], ids=['header', 'image'])
def test_a_damaged_test_set_is_one_line_naming_it(tiny_config_file, tiny_h5, repo_root,
                                                    tmp_path, monkeypatch, capsys, damage):
    monkeypatch.chdir(repo_root)
    init_default_scope('danet')
    weights = tmp_path / 'w.pth'
    torch.save({'state_dict': MODELS.build(Config.fromfile(str(tiny_config_file)).model)
                .state_dict()}, weights)
    bad = shutil.copy(tiny_test_h5(tiny_h5), tmp_path / 'bad.h5')
    damage(bad)
    with pytest.raises(SystemExit) as done:
        run_main(lambda: test_tool.main([str(tiny_config_file), str(weights), '--work-dir',
                                         str(tmp_path / 'work'), '--testsets', f'Bad={bad}']))
    # Python logging's own '--- Logging error ---' reports (MMEngine's logger still holding a
    # stream an earlier test's capture closed) are not the command's output
    err = re.sub(r'--- Logging error ---.*?\nArguments: [^\n]*\n', '',
                 capsys.readouterr().err, flags=re.S)
    lines = [line for line in err.splitlines() if line.startswith('error:')]
    assert done.value.code == 2 and 'Traceback' not in err, err[-2000:]
    assert len(lines) == 1 and str(bad) in lines[0] and 'damaged packed file' in lines[0]
    assert not (tmp_path / 'work' / 'results' / 'Bad.json').exists()
