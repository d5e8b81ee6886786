"""Foreign checkpoints (``--revise-keys``) and test sets from the command line
(``--testsets NAME=PATH``), and the one quantisation rule: ``tools/derain.py --protocol`` →
``tools/eval_folder.py`` scores every image as ``tools/test.py`` does."""
import json
import subprocess
import sys

import pytest
import torch

from tests.test_engine.conftest import tiny_test_h5


def _tool(repo_root, *args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=repo_root, capture_output=True,
                          text=True)


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
        tiny_config_file, tiny_h5, foreign_checkpoint, repo_root, tmp_path):
    folder = tiny_h5.parent / 'test_src'       # the pairs packed into tiny_test.h5
    refused = _tool(repo_root, 'tools/test.py', tiny_config_file, foreign_checkpoint,
                    '--work-dir', tmp_path / 'refused', '--testsets', f'Mine={folder}')
    assert refused.returncode == 2
    assert 'missing key: generator.' in refused.stderr and '--revise-keys' in refused.stderr
    assert not (tmp_path / 'refused' / 'results').exists()

    work = tmp_path / 'eval'
    done = _tool(repo_root, 'tools/test.py', tiny_config_file, foreign_checkpoint,
                 '--work-dir', work, '--protocol', 'prenet_matlab', '--revise-keys',
                 r'^module\.net\.=', '--testsets', 'Rain100L', f'Mine={folder}',
                 f'Packed={tiny_test_h5(tiny_h5)}')
    assert done.returncode == 0, done.stderr[-3000:]
    by_set = {name: json.loads((work / 'results' / f'{name}.json').read_text())
              for name in ('Rain100L', 'Mine', 'Packed')}
    assert not (work / 'results' / 'Rain100H.json').exists()
    rows = {name: {r['name'].split('/')[-1]: r['psnr_y'] for r in res['images']}
            for name, res in by_set.items()}
    assert len(rows['Mine']) == 6 and rows['Mine'] == pytest.approx(rows['Rain100L'], abs=1e-9)
    assert rows['Packed'] == pytest.approx(rows['Rain100L'], abs=1e-9)

    images = tmp_path / 'derained'
    derained = _tool(repo_root, 'tools/derain.py', tiny_config_file, foreign_checkpoint,
                     folder / 'rainy', images, '--protocol', 'prenet_matlab',
                     '--revise-keys', r'^module\.net\.=')
    assert derained.returncode == 0, derained.stderr[-3000:]
    (images / '005.png').unlink()               # a subset: scored, the rest named
    scored = _tool(repo_root, 'tools/eval_folder.py', images, folder / 'clean', '--testset',
                   'Mine', '--method', 'm', '--out-dir', tmp_path / 'folder_eval', '--no-lpips',
                   '--protocol', 'prenet_matlab')
    assert scored.returncode == 0, scored.stderr[-3000:]
    assert 'skipped (no prediction): 005.png' in scored.stderr
    again = json.loads((tmp_path / 'folder_eval' / 'Mine.json').read_text())
    assert len(again['images']) == 5
    for row in again['images']:   # the same truncated pixels as test.py scored, image by image
        assert row['psnr_y'] == pytest.approx(rows['Mine'][row['name']], abs=1e-9)
