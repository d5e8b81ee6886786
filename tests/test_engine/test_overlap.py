"""Training refuses a split sharing backgrounds with a test set unless ``--allow-overlap``."""
import json
import subprocess
import sys

import pytest

from danet.engine.overlap import OverlapError
from danet.engine.runner import run_training


def test_clean_run_records_the_check(straight_run):
    overlap = json.loads((straight_run / 'env.json').read_text())['train_test_overlap']
    assert overlap['checked'] == ['Rain100L', 'Rain100H'] and overlap['pairs'] == []
    assert overlap['allowed'] is False and overlap['not_checked'] == []


def test_overlap_is_refused_then_allowed_and_recorded(tiny_cfg, tiny_h5, tmp_path):
    leaking = {'test_dataloader.1.dataset.ann_file': str(tiny_h5)}  # Rain100H := training file
    work_dir = tmp_path / 'refused'
    with pytest.raises(OverlapError, match=r'shares 4 background\(s\)') as err:
        run_training(tiny_cfg(work_dir, max_epochs=1, **leaking))
    assert 'Rain100H clean/' in str(err.value) and '--allow-overlap' in str(err.value)
    assert not work_dir.exists()  # refused before the run directory is created

    work_dir = tmp_path / 'allowed'
    run_training(tiny_cfg(work_dir, max_epochs=1, **leaking), allow_overlap=True)
    overlap = json.loads((work_dir / 'env.json').read_text())['train_test_overlap']
    assert overlap['allowed'] is True and len(overlap['pairs']) == 4
    assert {p['testset'] for p in overlap['pairs']} == {'Rain100H'}
    assert all(p['train'] == p['test'] and p['similarity'] > 0.99 for p in overlap['pairs'])


@pytest.mark.slow
def test_train_tool_exits_2_with_the_pairs(tiny_config_file, tiny_h5, repo_root, tmp_path):
    command = [sys.executable, 'tools/train.py', str(tiny_config_file), '--work-dir',
               str(tmp_path / 'run'), '--cfg-options',
               f'test_dataloader.0.dataset.ann_file={tiny_h5}']
    result = subprocess.run(command, cwd=repo_root, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2, result.stderr[-2000:]
    assert 'error: the training split shares 4 background(s)' in result.stderr
    assert 'Traceback' not in result.stderr and not (tmp_path / 'run').exists()
