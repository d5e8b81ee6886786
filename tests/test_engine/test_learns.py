"""Proof that DANet learns on real data: the CPU smoke config trained on the real Train40 pairs
(without the 2 whose backgrounds are Rain100 test images) beats the rainy input's PSNR(Y) and
SSIM(Y) on the full Rain100L and Rain100H test sets.

The config as shipped (100 epochs, about 3 minutes on one thread); the rainy scores are computed
here from the same packed files. Without ``PairedRainStrength`` the net learned Train40's heavy-rain
brightness correction and fell 0.3-0.7 dB below the rainy input on light-rain Rain100L
(docs/training.md).
"""
import numpy as np
import pytest
import torch

from danet.datasets.h5_dataset import H5PairedDataset
from danet.datasets.pack import pack
from danet.engine.runner import load_run_config, run_testing, run_training
from danet.evaluation.functional import calculate_psnr, calculate_ssim

SMOKE_CONFIG = 'configs/danet/danet_smoke-cpu_1xb4-100e_train40.py'
TESTSETS = ('Rain100L', 'Rain100H')
EPOCHS = 100  # the config's train_cfg.max_epochs


@pytest.fixture
def one_thread():
    """The narrow net's small convolutions gain little from a second thread and slow down
    several-fold when other processes share the cores, so train and test on one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def rainy_scores(h5) -> dict:
    """Mean PSNR(Y) and SSIM(Y) of the packed rainy images against their clean images."""
    def hwc(t):
        return t.permute(1, 2, 0).numpy()
    pairs = [(hwc(item['inputs']), hwc(item['data_samples'].gt_img))
             for item in H5PairedDataset(str(h5), test_mode=True)]
    return {'psnr_y': float(np.mean([calculate_psnr(*pair) for pair in pairs])),
            'ssim_y': float(np.mean([calculate_ssim(*pair) for pair in pairs])),
            'count': len(pairs)}


@pytest.mark.slow
def test_smoke_config_trained_on_train40_beats_the_rainy_input(
        shared_data, repo_root, tmp_path, monkeypatch, one_thread):
    monkeypatch.chdir(repo_root)
    tests = {name: tmp_path / f'{name}.h5' for name in TESTSETS}
    for name, h5 in tests.items():
        pack(shared_data / name, h5, workers=2)
    train = tmp_path / 'Train40.h5'
    manifest = pack(shared_data / 'Train40', train, val_fraction=0.1, workers=2,
                    exclude_overlap_with=list(tests.values()))
    assert [e['clean'] for e in manifest.excluded] == ['clean/012.jpg', 'clean/013.jpg']
    options = {'train_dataloader.dataset.ann_file': str(train),
               'val_dataloader.dataset.ann_file': str(train),
               'test_dataloader.0.dataset.ann_file': str(tests['Rain100L']),
               'test_dataloader.1.dataset.ann_file': str(tests['Rain100H']),
               'visualizer.vis_backends': [dict(type='LocalVisBackend')]}
    cfg = load_run_config(SMOKE_CONFIG, tmp_path / 'run', options)
    run_training(cfg)

    last = tmp_path / 'run' / f'epoch_{EPOCHS}.pth'
    metrics = run_testing(load_run_config(SMOKE_CONFIG, tmp_path / 'run', options), last)
    rainy = {name: rainy_scores(h5) for name, h5 in tests.items()}
    assert rainy['Rain100L']['count'] == rainy['Rain100H']['count'] == 100
    for name in TESTSETS:
        for key in ('psnr_y', 'ssim_y'):
            derained, before = metrics[f'{name}/{key}'], rainy[name][key]
            assert derained > before, f'{name} {key}: derained {derained:.4f} <= rainy {before:.4f}'
