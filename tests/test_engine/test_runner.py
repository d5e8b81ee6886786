"""Run directories, resume determinism, seeds and checkpoint checks of ``DerainRunner``."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook

from danet.datasets.h5format import PackedFile
from danet.engine.hooks import KILL_AT
from danet.engine.runner import DerainRunner, prepare_work_dir, run_testing, run_training
from tools import test as test_tool


def final_weights(work_dir, epoch=2):
    return torch.load(work_dir / f'epoch_{epoch}.pth', map_location='cpu',
                      weights_only=True)['state_dict']


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


class Crash(Exception):
    """Raised by :class:`CrashAfterFirstEpoch`."""


class CrashAfterFirstEpoch(Hook):
    """Stands in for a kill: aborts training right after the first epoch's checkpoint."""

    def after_train_epoch(self, runner) -> None:
        raise Crash


def val_metrics(work_dir, epoch=2) -> dict:
    """The validation scalars logged for ``epoch`` (the last record, after any resume)."""
    records = [json.loads(line) for line in
               (work_dir / 'logs' / 'vis_data' / 'scalars.json').read_text().splitlines()]
    return [r for r in records if 'val/psnr_y' in r and r['step'] == epoch][-1]


def assert_ends_like(work_dir, straight):
    assert_same_weights(final_weights(straight), final_weights(work_dir))
    for key in ('val/psnr_y', 'val/ssim_y'):
        assert val_metrics(work_dir)[key] == val_metrics(straight)[key], key


@pytest.mark.slow
def test_resume_after_a_crash_continues_exactly_like_an_uninterrupted_run(
        straight_run, tiny_cfg, tmp_path):
    work_dir = tmp_path / 'crashed'
    runner = DerainRunner.from_cfg(tiny_cfg(work_dir, max_epochs=2))
    runner.register_hook(CrashAfterFirstEpoch(), priority='LOWEST')  # after CheckpointHook
    with pytest.raises(Crash):
        runner.train()
    assert (work_dir / 'epoch_1.pth').is_file() and not (work_dir / 'epoch_2.pth').exists()
    random.seed(99), np.random.seed(99), torch.manual_seed(99)  # the crash's RNG state is moot
    run_training(tiny_cfg(work_dir, max_epochs=2), resume=True)
    assert_ends_like(work_dir, straight_run)
    history = json.loads((work_dir / 'env.json').read_text())['history']
    assert len(history) == 1  # the resume recorded itself beside the first invocation


@pytest.mark.slow
def test_sigkill_then_resume_from_the_command_line_ends_like_an_uninterrupted_run(
        straight_run, tiny_config_file, repo_root, tmp_path):
    work_dir = tmp_path / 'killed'
    command = [sys.executable, 'tools/train.py', str(tiny_config_file), '--work-dir', str(work_dir)]
    # killed by itself right after epoch 1's checkpoint and pointer (KILL_AT), never by the clock
    proc = subprocess.run(command, cwd=repo_root, capture_output=True, timeout=600,
                          env={**os.environ, KILL_AT: 'epoch1'})
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    assert (work_dir / 'epoch_1.pth').is_file() and not (work_dir / 'epoch_2.pth').exists()
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith('epoch_1.pth')
    subprocess.run([*command, '--resume'], cwd=repo_root, check=True, capture_output=True)
    assert_ends_like(work_dir, straight_run)


@pytest.mark.slow
def test_resume_with_more_epochs_warns_that_the_schedule_keeps_its_old_end(
        straight_run, tiny_cfg, tmp_path):
    """The cause of the old ~1e-4 'resume bug': a 1-epoch run resumed to 2 epochs is another
    schedule (its scheduler's default ``end`` is the first run's max_epochs)."""
    work_dir = tmp_path / 'extended'
    shutil.copytree(straight_run, work_dir)
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_2.pth'))  # absolute path
    run_training(tiny_cfg(work_dir, max_epochs=3), resume=True)
    log = max((work_dir / 'logs').glob('*.log')).read_text()
    assert 'keep the (begin, end) of the checkpoint, [(0, 2)], not [(0, 3)]' in log
    assert (work_dir / 'epoch_3.pth').is_file()


@pytest.mark.slow
def test_test_tool_evaluates_only_the_named_testsets(straight_run, repo_root, monkeypatch,
                                                    tiny_config_file, tmp_path, capsys):
    monkeypatch.chdir(repo_root)
    checkpoint = str(straight_run / 'epoch_2.pth')
    test_tool.main([str(tiny_config_file), checkpoint, '--work-dir', str(tmp_path / 'a'),
                    '--testsets', 'Rain100H'])
    assert [p.name for p in (tmp_path / 'a' / 'results').iterdir()] == ['Rain100H.json']
    assert 'Rain100H/psnr_y' in capsys.readouterr().out
    with pytest.raises(ValueError, match=r'unknown test set\(s\) Rain200; this config has '
                                         r'Rain100L, Rain100H'):
        test_tool.main([str(tiny_config_file), checkpoint, '--work-dir', str(tmp_path / 'b'),
                        '--testsets', 'Rain100H', 'Rain200'])
    assert not (tmp_path / 'b').exists()


@pytest.mark.slow
def test_same_seed_twice_gives_identical_weights_and_another_seed_does_not(tiny_cfg, tmp_path):
    run_training(tiny_cfg(tmp_path / 'a', max_epochs=1))
    run_training(tiny_cfg(tmp_path / 'b', max_epochs=1))
    run_training(tiny_cfg(tmp_path / 'c', max_epochs=1, **{'randomness.seed': 7}))
    a, b, c = (final_weights(tmp_path / n, epoch=1) for n in 'abc')
    assert_same_weights(a, b)
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_run_directory_layout_and_env(tiny_cfg, tmp_path):
    work_dir = tmp_path / 'run'
    run_training(tiny_cfg(work_dir, max_epochs=1))
    names = {p.name for p in work_dir.iterdir()}
    assert {'config.py', 'env.json', 'epoch_1.pth', 'last_checkpoint', 'logs'} <= names
    assert any(n.startswith('best_val_psnr_y') for n in names)
    assert (work_dir / 'logs' / 'vis_data' / 'scalars.json').is_file()
    env = json.loads((work_dir / 'env.json').read_text())
    assert env['phase'] == 'train' and env['seed'] == 1234 and len(env['config_hash']) == 64
    assert set(env['dataset_hashes']) == {'train', 'val'}
    assert {'torch', 'mmengine'} <= set(env['packages']) and 'commit' in env['git']


def test_refuses_non_empty_work_dir_and_resume_without_checkpoint(tmp_path):
    (tmp_path / 'old').mkdir()
    (tmp_path / 'old' / 'epoch_1.pth').write_bytes(b'')
    with pytest.raises(FileExistsError, match='not empty'):
        prepare_work_dir(tmp_path / 'old', resume=False)
    with pytest.raises(FileNotFoundError, match='no checkpoint'):
        prepare_work_dir(tmp_path / 'empty', resume=True)
    (tmp_path / 'old' / 'last_checkpoint').write_text('epoch_1.pth')
    with pytest.raises(FileExistsError, match='pass --resume'):
        prepare_work_dir(tmp_path / 'old', resume=False)


def test_failed_start_up_then_killed_attempt_do_not_block_the_next_try(tiny_cfg, tmp_path):
    work_dir = tmp_path / 'run'
    with pytest.raises(TypeError, match='no_such_arg'):  # a registered type, built at start-up
        run_training(tiny_cfg(work_dir, max_epochs=1,
                              **{'+model.generator.reconstruction.no_such_arg': 1}))
    left = {p.name for p in work_dir.iterdir()}
    assert left and left <= {'config.py', 'env.json', 'logs'}  # as a kill before epoch 1 leaves
    run_training(tiny_cfg(work_dir, max_epochs=1), resume=True)  # nothing to resume: fresh start
    assert (work_dir / 'epoch_1.pth').is_file()
    assert 'no_such_arg' not in (work_dir / 'config.py').read_text()


def test_unregistered_type_fails_before_the_run_directory(tiny_cfg, tmp_path):
    with pytest.raises(KeyError, match='BilinearRecon'):
        run_training(tiny_cfg(tmp_path / 'run', max_epochs=1,
                              **{'model.generator.reconstruction.type': 'BilinearRecon'}))
    assert not (tmp_path / 'run').exists()


def test_missing_dataset_path_fails_before_work(tiny_cfg, tmp_path):
    cfg = tiny_cfg(tmp_path / 'run', **{'train_dataloader.dataset.ann_file': '/no/such.h5'})
    with pytest.raises(FileNotFoundError, match=r'train_dataloader\.dataset\.ann_file = /no/such'):
        run_training(cfg)
    assert not (tmp_path / 'run').exists()


def test_checkpoint_of_another_architecture_is_refused_naming_the_shape(tiny_cfg, tmp_path):
    other = DerainRunner.from_cfg(tiny_cfg(tmp_path / 'wide', **{'model.generator.n_feat': 16}))
    ckpt = tmp_path / 'wide.pth'
    torch.save({'state_dict': other.model.state_dict()}, ckpt)
    with pytest.raises(ValueError,
                       match=r'does not fit RestorationModel .*\n  shape mismatch at generator\.'):
        run_testing(tiny_cfg(tmp_path / 'narrow'), ckpt)


def test_test_writes_results_complexity_and_env(tiny_cfg, tmp_path):
    work_dir = tmp_path / 'run'
    run_training(tiny_cfg(work_dir, max_epochs=1))
    metrics = run_testing(tiny_cfg(work_dir, max_epochs=1), work_dir / 'epoch_1.pth',
                          save_images=True, complexity_shape=(3, 32, 32))
    assert 'Rain100L/psnr_y' in metrics
    results = json.loads((work_dir / 'results' / 'Rain100L.json').read_text())
    env = json.loads((work_dir / 'env.json').read_text())
    assert results['config_hash'] == env['config_hash'] == env['history'][0]['config_hash']
    packed = PackedFile(tiny_cfg(work_dir).test_dataloader[0].dataset.ann_file)
    assert env['dataset_hashes']['test/Rain100L'] == packed.content_hash
    assert results['dataset_hash'] == packed.ground_truth_hash  # as eval_folder records it
    assert len(results['images']) == 6 and {'psnr_y', 'ssim_rgb'} <= set(results['summary'])
    complexity = json.loads((work_dir / 'complexity.json').read_text())
    assert complexity['params'] > 0 and complexity['macs'] > 0
    assert len(list((work_dir / 'images' / 'Rain100H').glob('*.png'))) == 6


def test_testing_into_the_run_folder_of_another_config_is_refused(straight_run, tiny_cfg,
                                                                   tmp_path):
    work_dir = tmp_path / 'run'
    shutil.copytree(straight_run, work_dir)
    with pytest.raises(ValueError, match='holds a run of another config'):
        run_testing(tiny_cfg(work_dir, max_epochs=3), work_dir / 'epoch_2.pth')
    assert not (work_dir / 'results').exists()
    assert json.loads((work_dir / 'env.json').read_text())['phase'] == 'train'


def test_grid_progress_reads_the_epoch_of_a_real_run(straight_run, tmp_path):
    from ablations.rundir import train_progress
    (tmp_path / 'train').symlink_to(straight_run)
    assert train_progress(tmp_path) == 'epoch 2/2'
