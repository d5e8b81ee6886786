"""Every method has a dehaze and a low-light config built from its model and schedule bases and
one task base; they train and test through tools/train.py and tools/test.py on pairs synthesised
over real photos (tiny: one epoch of a narrowed network, one method per task here; every config's
model is built and run by test_configs.py)."""
import importlib.util
import json
import shutil

import pytest
from mmengine.config import Config

from data_tools.__main__ import main as data_tools
from tests.test_engine.conftest import REPO_ROOT


def _tool(name):
    path = REPO_ROOT / 'tools' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(f'tool_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


@pytest.fixture(scope='module')
def photo_splits(tmp_path_factory):
    root = tmp_path_factory.mktemp('task_photos')
    assert data_tools(['photos', str(root / 'all'), '--max-size', '64']) == 0
    photos = sorted((root / 'all').glob('*.png'))
    for split, chosen in (('train', photos[:6]), ('test', photos[6:])):
        (root / split).mkdir()
        for p in chosen:
            shutil.copy(p, root / split / p.name)
    return root


METHODS = ('danet', 'mprnet', 'prenet', 'pcnet')
TASKS = {'dehaze': ('hazy', 'SynthHaze', 'data/HazeTest.h5'),
         'lowlight': ('low', 'SynthLowLight', 'data/LowLightTest.h5')}
# Narrow versions of the networks (same wiring) for a one-epoch run on CPU.
NARROW = {'danet': ['model.generator.n_feat=8', 'model.generator.num_cab=1'],
          'prenet': ['model.generator.stages=2'],
          'pcnet': ['+model.generator.n_feat=8', '+model.generator.num_crb=1',
                    '+model.generator.num_rcab=1']}


def _config(method: str, data: str):
    """The method's config for ``data`` (``{method}_{N}xb{B}-{E}e_{data}.py``; no variant)."""
    found = sorted((REPO_ROOT / 'configs' / method).glob(f'{method}_[0-9]*xb*_{data}.py'))
    assert len(found) == 1, f'{method}/{data}: expected one config, found {found}'
    return found[0]


DATA = {'dehaze': 'synthetic-haze', 'lowlight': 'synthetic-lowlight'}


@pytest.mark.parametrize('method', METHODS)
@pytest.mark.parametrize('task', TASKS)
def test_every_method_has_a_config_per_task_from_its_own_bases(task, method):
    config = _config(method, DATA[task])
    cfg = Config.fromfile(str(config))
    folder, testset, test_file = TASKS[task]
    assert cfg.task['name'] == task and cfg.task['degraded_folder'] == folder
    assert [loader.dataset.testset for loader in cfg.test_dataloader] == [testset]
    assert cfg.test_dataloader[0].dataset.ann_file == test_file
    assert cfg.model.type == 'RestorationModel'
    # the method's own recipe: the same model and optimiser as its derain config
    derain = _config(method, 'rain*')
    reference = Config.fromfile(str(derain))
    assert cfg.model.generator.type == reference.model.generator.type
    assert cfg.optim_wrapper.optimizer.lr == reference.optim_wrapper.optimizer.lr


@pytest.mark.parametrize('task,method', [('dehaze', 'prenet'), ('lowlight', 'pcnet')])
def test_task_config_trains_and_tests(task, method, photo_splits, tmp_path, monkeypatch):
    config = _config(method, DATA[task])
    folder = TASKS[task][0]
    assert Config.fromfile(str(config)).task['degraded_folder'] == folder
    for split, seed, extra in (('train', '0', ['--val-fraction', '0.34']), ('test', '1', [])):
        assert data_tools(['synth', str(photo_splits / split), str(tmp_path / split),
                           '--task', task, '--seed', seed]) == 0
        assert data_tools(['pack', str(tmp_path / split), str(tmp_path / f'{split}.h5'),
                           '--workers', '1', *extra]) == 0
    monkeypatch.chdir(REPO_ROOT)
    options = [*NARROW[method], 'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
               f'train_dataloader.dataset.ann_file={tmp_path / "train.h5"}',
               'train_dataloader.dataset.pipeline.0.crop_size=32',
               'val_dataloader.num_workers=0', 'test_dataloader.0.num_workers=0',
               f'val_dataloader.dataset.ann_file={tmp_path / "train.h5"}',
               f'test_dataloader.0.dataset.ann_file={tmp_path / "test.h5"}',
               'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
               'default_hooks.checkpoint.interval=1']
    work = tmp_path / 'run'
    _tool('train')([str(config), '--work-dir', str(work), '--cfg-options', *options])
    _tool('test')([str(config), str(work / 'epoch_1.pth'), '--cfg-options', *options])
    testset = TASKS[task][1]
    results = json.loads((work / 'results' / f'{testset}.json').read_text())
    assert len(results['images']) == 3 and results['summary']['psnr_y'] > 0
