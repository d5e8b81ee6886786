"""``tools/test.py --protocol``: the protocol reaches every test set's metric, the results file
and the saved images, and leaves the config hash alone."""
import json
import subprocess
import sys

import pytest

from danet.apis.folder_eval import evaluate_folders


def test_protocol_option_scores_records_and_saves_under_the_protocol(
        straight_run, tiny_config_file, tiny_h5, repo_root, tmp_path):
    work_dir = tmp_path / 'eval'
    done = subprocess.run(
        [sys.executable, 'tools/test.py', str(tiny_config_file), str(straight_run / 'epoch_2.pth'),
         '--work-dir', str(work_dir), '--testsets', 'Rain100L', '--save-images',
         '--protocol', 'prenet_matlab'], cwd=repo_root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((work_dir / 'results' / 'Rain100L.json').read_text())
    assert results['conventions']['protocol'] == 'prenet_matlab'
    assert results['conventions']['quantize'] == 'truncate'
    assert not (work_dir / 'results' / 'Rain100H.json').exists()
    env = json.loads((work_dir / 'env.json').read_text())
    trained = json.loads((straight_run / 'env.json').read_text())
    assert results['config_hash'] == env['config_hash'] == trained['config_hash']
    # the saved PNGs are the truncated predictions: scored again from disk, every row agrees
    test_gt = tiny_h5.parent / 'test_src' / 'clean'    # the pairs packed into tiny_test.h5
    again = evaluate_folders(work_dir / 'images' / 'Rain100L', test_gt, 'Rain100L', 'm',
                             metrics=['psnr_y', 'ssim_y'],
                             protocol='prenet_matlab')
    rows = {r['name']: r for r in results['images']}
    assert len(again['images']) == len(rows) == 6
    for row in again['images']:
        assert row['psnr_y'] == pytest.approx(rows[row['name']]['psnr_y'], abs=1e-9)
        assert row['ssim_y'] == pytest.approx(rows[row['name']]['ssim_y'], abs=1e-9)
    assert results['dataset_hash'] == again['dataset_hash']
