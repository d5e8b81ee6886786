"""Run directories, resume determinism, seeds and checkpoint checks of ``DerainRunner``."""
import json

import pytest
import torch

from danet.engine.runner import DerainRunner, prepare_work_dir, run_testing, run_training


def final_weights(work_dir, epoch=2):
    return torch.load(work_dir / f'epoch_{epoch}.pth', map_location='cpu',
                      weights_only=False)['state_dict']


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason='known bug: resumed weights differ from an uninterrupted '
                   'run by ~1e-4 (same seed twice is bit-identical); cause not yet found')
def test_resume_continues_exactly_like_an_uninterrupted_run(tiny_cfg, tmp_path):
    run_training(tiny_cfg(tmp_path / 'straight', max_epochs=2))
    run_training(tiny_cfg(tmp_path / 'killed', max_epochs=1))
    run_training(tiny_cfg(tmp_path / 'killed', max_epochs=2), resume=True)
    assert_same_weights(final_weights(tmp_path / 'straight'), final_weights(tmp_path / 'killed'))
    history = json.loads((tmp_path / 'killed' / 'env.json').read_text())['history']
    assert len(history) == 1  # the resume recorded itself beside the first invocation


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


def test_missing_dataset_path_fails_before_work(tiny_cfg, tmp_path):
    cfg = tiny_cfg(tmp_path / 'run', **{'train_dataloader.dataset.ann_file': '/no/such.h5'})
    with pytest.raises(FileNotFoundError, match=r'train_dataloader\.dataset\.ann_file = /no/such'):
        run_training(cfg)
    assert not (tmp_path / 'run').exists()


def test_checkpoint_of_another_architecture_is_refused_naming_the_shape(tiny_cfg, tmp_path):
    other = DerainRunner.from_cfg(tiny_cfg(tmp_path / 'wide', **{'model.generator.n_feat': 16}))
    ckpt = tmp_path / 'wide.pth'
    torch.save({'state_dict': other.model.state_dict()}, ckpt)
    with pytest.raises(ValueError, match=r'shape'):
        run_testing(tiny_cfg(tmp_path / 'narrow'), ckpt)


def test_test_writes_results_complexity_and_env(tiny_cfg, tmp_path):
    work_dir = tmp_path / 'run'
    run_training(tiny_cfg(work_dir, max_epochs=1))
    metrics = run_testing(tiny_cfg(work_dir, max_epochs=1), work_dir / 'epoch_1.pth', save_images=True,
                   complexity_shape=(3, 32, 32))
    assert 'Rain100L/psnr_y' in metrics
    results = json.loads((work_dir / 'results' / 'Rain100L.json').read_text())
    env = json.loads((work_dir / 'env.json').read_text())
    assert results['config_hash'] == env['config_hash'] == env['history'][0]['config_hash']
    assert results['dataset_hash'] == env['dataset_hashes']['test/Rain100L']
    assert len(results['images']) == 6 and {'psnr_y', 'ssim_rgb'} <= set(results['summary'])
    complexity = json.loads((work_dir / 'complexity.json').read_text())
    assert complexity['params'] > 0 and complexity['macs'] > 0
    assert len(list((work_dir / 'images' / 'Rain100H').glob('*.png'))) == 6
