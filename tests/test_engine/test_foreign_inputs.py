"""Foreign checkpoints (``--revise-keys``) and test sets from the command line
(``--testsets NAME=PATH``), and the one quantisation rule: ``tools/derain.py --protocol`` →
``tools/eval_folder.py`` scores every image as ``tools/test.py`` does."""
import json

import pytest
import torch

from danet.utils.cli import run_main
from tests.test_engine.conftest import tiny_test_h5
from tools import derain as derain_tool
from tools import eval_folder as eval_folder_tool
from tools import test as test_tool


def _tool(capsys, main, *args) -> tuple[int, str]:
    """A tool's ``main`` as its script runs it (``run_main``): exit code and stderr."""
    with pytest.raises(SystemExit) as done:
        run_main(lambda: main([str(a) for a in args]))
    return done.value.code or 0, capsys.readouterr().err


@pytest.fixture(scope='module')
def foreign_checkpoint(straight_run, tmp_path_factory):
    """The tiny run's weights as another repository saves them: ``{'params': {'module.net.*'}}``."""
    state = torch.load(straight_run / 'epoch_2.pth', weights_only=True)['state_dict']
    foreign = {'module.net.' + k.removeprefix('generator.'): v for k, v in state.items()}
    path = tmp_path_factory.mktemp('foreign') / 'released.pth'
    torch.save({'params': foreign, 'epoch': 7}, path)
    return path


@pytest.mark.slow
def test_foreign_weights_on_a_folder_test_set_then_derain_and_eval_folder_agree(
        tiny_config_file, tiny_h5, foreign_checkpoint, repo_root, tmp_path, monkeypatch,
        capsys):
    monkeypatch.chdir(repo_root)
    folder = tiny_h5.parent / 'test_src'       # the pairs packed into tiny_test.h5
    code, err = _tool(capsys, test_tool.main, tiny_config_file, foreign_checkpoint,
                      '--work-dir', tmp_path / 'refused', '--testsets', f'Mine={folder}')
    assert code == 2 and 'missing key: generator.' in err and '--revise-keys' in err
    assert not (tmp_path / 'refused' / 'results').exists()

    work = tmp_path / 'eval'
    code, err = _tool(capsys, test_tool.main, tiny_config_file, foreign_checkpoint,
                      '--work-dir', work, '--protocol', 'prenet_matlab', '--revise-keys',
                      r'^module\.net\.=', '--testsets', 'Rain100L', f'Mine={folder}',
                      f'Packed={tiny_test_h5(tiny_h5)}')
    assert code == 0, err[-3000:]
    by_set = {name: json.loads((work / 'results' / f'{name}.json').read_text())
              for name in ('Rain100L', 'Mine', 'Packed')}
    assert not (work / 'results' / 'Rain100H.json').exists()
    rows = {name: {r['name'].split('/')[-1]: r['psnr_y'] for r in res['images']}
            for name, res in by_set.items()}
    assert len(rows['Mine']) == 6 and rows['Mine'] == pytest.approx(rows['Rain100L'], abs=1e-9)
    assert rows['Packed'] == pytest.approx(rows['Rain100L'], abs=1e-9)

    images = tmp_path / 'derained'
    code, err = _tool(capsys, derain_tool.main, tiny_config_file, foreign_checkpoint,
                      folder / 'rainy', images, '--protocol', 'prenet_matlab',
                      '--revise-keys', r'^module\.net\.=')
    assert code == 0, err[-3000:]
    (images / '005.png').unlink()               # a subset: scored, the rest named
    code, err = _tool(capsys, eval_folder_tool.main, images, folder / 'clean', '--testset',
                      'Mine', '--method', 'm', '--out-dir', tmp_path / 'folder_eval',
                      '--no-lpips', '--protocol', 'prenet_matlab')
    assert code == 0, err[-3000:]
    assert 'skipped (no prediction): 005.png' in err
    again = json.loads((tmp_path / 'folder_eval' / 'Mine.json').read_text())
    assert len(again['images']) == 5
    for row in again['images']:   # the same truncated pixels as test.py scored, image by image
        assert row['psnr_y'] == pytest.approx(rows['Mine'][row['name']], abs=1e-9)
