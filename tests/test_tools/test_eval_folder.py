"""tools/eval_folder.py end to end on real Rain100L pairs, rainy images as predictions."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from danet.evaluation.functional import calculate_psnr, calculate_ssim
from danet.evaluation.results import read_results


def run_tool(repo_root, *args):
    env = {**os.environ, 'PYTHONPATH': str(repo_root)}
    return subprocess.run([sys.executable, str(repo_root / 'tools' / 'eval_folder.py'), *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def folders(shared_data, tmp_path):
    pred, gt = tmp_path / 'pred', tmp_path / 'gt'
    pred.mkdir()
    gt.mkdir()
    for name in ('001', '002', '003'):
        shutil.copy(shared_data / 'Rain100L' / 'clean' / f'{name}.png', gt)
    shutil.copy(shared_data / 'Rain100L' / 'rainy' / '001.png', pred)
    shutil.copy(shared_data / 'Rain100L' / 'rainy' / '002.png', pred)
    # lossless under another extension: pairs by stem
    Image.open(shared_data / 'Rain100L' / 'rainy' / '003.png').save(pred / '003.bmp')
    return pred, gt


@pytest.mark.slow
def test_scores_folder_into_results_schema(folders, repo_root, tmp_path):
    pred, gt = folders
    out = tmp_path / 'out'
    done = run_tool(repo_root, str(pred), str(gt), '--testset', 'Rain100L', '--method', 'rainy',
                    '--out-dir', str(out), '--no-lpips')
    assert done.returncode == 0, done.stderr
    results = read_results(out / 'Rain100L.json')
    assert [r['name'] for r in results['images']] == ['001.png', '002.png', '003.png']
    assert 'lpips_alex' not in results['summary'] and results['config_hash'] is None
    for row in results['images']:
        rainy = np.array(Image.open(next(pred.glob(row['name'][:3] + '.*'))))
        clean = np.array(Image.open(gt / row['name']))
        assert row['psnr_y'] == pytest.approx(calculate_psnr(rainy, clean))
        assert row['ssim_rgb'] == pytest.approx(calculate_ssim(rainy, clean, 'rgb'))
    # the dataset hash depends on the GT pixels only
    again = run_tool(repo_root, str(gt), str(gt), '--testset', 'Rain100L', '--method', 'gt',
                     '--out-dir', str(tmp_path / 'again'), '--no-lpips')
    assert again.returncode == 0, again.stderr
    same_gt = read_results(tmp_path / 'again' / 'Rain100L.json')
    assert same_gt['dataset_hash'] == results['dataset_hash']
    assert same_gt['summary']['psnr_y'] == float('inf')


def test_unpaired_files_are_listed_and_nothing_written(folders, repo_root, tmp_path):
    pred, gt = folders
    (pred / '002.png').rename(pred / '099.png')
    done = run_tool(repo_root, str(pred), str(gt), '--testset', 'T', '--method', 'm',
                    '--out-dir', str(tmp_path / 'out'), '--no-lpips')
    assert done.returncode == 2
    assert '099.png: no ground truth' in done.stderr and 'Traceback' not in done.stderr
    assert not (tmp_path / 'out').exists()


def test_a_subset_of_predictions_is_scored_and_the_skipped_ground_truths_named(
        folders, repo_root, tmp_path):
    pred, gt = folders
    (pred / '002.png').unlink()
    done = run_tool(repo_root, str(pred), str(gt), '--testset', 'T', '--method', 'm',
                    '--out-dir', str(tmp_path / 'out'), '--no-lpips')
    assert done.returncode == 0, done.stderr
    assert 'skipped (no prediction): 002.png' in done.stderr
    names = [row['name'] for row in read_results(tmp_path / 'out' / 'T.json')['images']]
    assert '002.png' not in names and len(names) == len(list(gt.iterdir())) - 1


@pytest.mark.parametrize('preds, gts, ambiguous', [
    (['001.png', '001.jpg'], ['001.bmp'], ['001.bmp', '001.jpg', '001.png']),
    (['001.png'], ['001.png', '001.jpg'], ['001.jpg']),     # was paired twice with 001.png
    (['001.png', '001.jpg'], ['001.png', '001.bmp'], ['001.bmp', '001.jpg']),
])
def test_shared_stems_are_reported_ambiguous_not_missing(tmp_path, preds, gts, ambiguous):
    from danet.apis.folder_eval import pair_files
    from danet.datasets.image_files import BadInputError
    for folder, names in (('p', preds), ('g', gts)):
        (tmp_path / folder).mkdir()
        for name in names:
            Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / folder / name)
    with pytest.raises(BadInputError) as err:
        pair_files(tmp_path / 'p', tmp_path / 'g')
    problems = dict((os.path.basename(path), why) for path, why in err.value.problems)
    assert sorted(problems) == ambiguous
    assert all(why.startswith('ambiguous: stem 001 is shared by') for why in problems.values())


def test_a_second_writer_of_one_results_folder_is_refused_naming_the_holder(tmp_path, capsys):
    from danet.utils.cli import run_main
    from danet.utils.run_lock import LOCK_FILES, RunLock
    from tools.eval_folder import main
    for folder in ('pred', 'gt'):
        (tmp_path / folder).mkdir()
        Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(tmp_path / folder / 'a.png')
    argv = [str(tmp_path / 'pred'), str(tmp_path / 'gt'), '--testset', 'T', '--method', 'm',
            '--out-dir', str(tmp_path / 'out'), '--no-lpips']
    with RunLock(tmp_path / 'out').held('eval_folder'):
        with pytest.raises(SystemExit) as stop:
            run_main(lambda: main(argv))
        assert stop.value.code == 2
        assert {p.name for p in (tmp_path / 'out').iterdir()} <= set(LOCK_FILES)
    assert f'is in use by another eval_folder: pid {os.getpid()}' in capsys.readouterr().err
    assert main(argv) == 0 and (tmp_path / 'out' / 'T.json').is_file()
