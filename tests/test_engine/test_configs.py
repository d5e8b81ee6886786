"""Every config in configs/ loads, keeps _base_ shallow, and its model builds and runs."""
import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from danet.registry import MODELS, SCOPE
from danet.utils.config import check_cfg_options

REPO = Path(__file__).resolve().parents[2]
METHOD_CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)


def test_there_are_method_configs():
    assert {p.name for p in METHOD_CONFIGS} >= {'danet_1xb16-1000e_rain13k.py',
                                                'danet_smoke-cpu_1xb4-100e_train40.py',
                                                'mprnet_1xb16-250e_rain13k.py'}


@pytest.mark.parametrize('path', METHOD_CONFIGS, ids=lambda p: p.name)
def test_config_name_follows_the_openmmlab_scheme(path):
    """``{method}_{settings}_{schedule}_{data}.py`` with the batch and epochs the config has."""
    match = re.fullmatch(r'[a-z0-9-]+(_[a-z0-9-]+)?_(\d+)xb(\d+)-(\d+)e_[a-z0-9-]+\.py', path.name)
    assert match, f'{path.name}: expected {{method}}_{{settings}}_{{N}}xb{{B}}-{{E}}e_{{data}}.py'
    cfg = Config.fromfile(str(path))
    assert (int(match.group(3)), int(match.group(4))) == \
        (cfg.train_dataloader.batch_size, cfg.train_cfg.max_epochs), path.name


@pytest.mark.parametrize('path', METHOD_CONFIGS, ids=lambda p: p.name)
def test_config_loads_with_validation_on_a_training_split(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == SCOPE
    assert cfg.val_dataloader.dataset.split == 'val'
    assert len(cfg.test_dataloader) == len(cfg.test_evaluator) >= 1  # one evaluator per test set
    assert cfg.test_cfg.type == 'MultiTestLoop'


@pytest.mark.parametrize('path', METHOD_CONFIGS, ids=lambda p: p.name)
def test_model_builds_and_a_tiny_forward_keeps_the_size(path):
    init_default_scope(SCOPE)
    cfg = Config.fromfile(str(path))
    if cfg.model.generator.type == 'DANet':
        cfg.model.generator.update(n_feat=8, num_cab=1)  # same wiring, seconds instead of minutes
    elif cfg.model.generator.type in ('Restormer', 'DRSformer'):
        cfg.model.generator.update(dim=8, num_blocks=[1, 1, 1, 1])  # every component, narrow
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        outputs = model(torch.rand(1, 3, 32, 48), mode='tensor')
    assert outputs[0].shape == (1, 3, 32, 48)


def test_unknown_cfg_option_names_key_and_closest_keys():
    cfg = Config.fromfile(str(REPO / 'configs/danet/danet_1xb16-1000e_rain13k.py'))
    with pytest.raises(ValueError, match=r"'train_cfg.max_epoch' is not a key.*"
                                         r"Closest existing keys: train_cfg\.max_epochs"):
        check_cfg_options(cfg, {'train_cfg.max_epoch': 3})
    checked = check_cfg_options(cfg, {'train_cfg.max_epochs': 3, '+model.generator.new_arg': 1,
                                      'test_dataloader.1.dataset.ann_file': 'x.h5'})
    assert checked == {'train_cfg.max_epochs': 3, 'model.generator.new_arg': 1,
                       'test_dataloader.1.dataset.ann_file': 'x.h5'}
    with pytest.raises(ValueError, match='test_dataloader.7'):
        check_cfg_options(cfg, {'test_dataloader.7.dataset.ann_file': 'x.h5'})


def test_wrong_typed_cfg_option_names_key_value_and_expected_type():
    cfg = Config.fromfile(str(REPO / 'configs/danet/danet_1xb16-1000e_rain13k.py'))
    with pytest.raises(ValueError, match=r"train_cfg.max_epochs='abc' is a str, expected a int"):
        check_cfg_options(cfg, {'train_cfg.max_epochs': 'abc'})
    with pytest.raises(ValueError, match=r"optim_wrapper.optimizer.lr='fast' is a str, expected "
                                         r"a float \(the value in .* is 0.0002\)"):
        check_cfg_options(cfg, {'optim_wrapper.optimizer.lr': 'fast'})
    with pytest.raises(ValueError, match='max_epochs=2.5 is a float, expected a int'):
        check_cfg_options(cfg, {'train_cfg.max_epochs': 2.5})
    assert check_cfg_options(cfg, {'optim_wrapper.optimizer.lr': 1, 'train_cfg.max_epochs': 3,
                                   'model.generator.alm.type': 'PlainALM'})
