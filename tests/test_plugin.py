"""A researcher's model on the platform without touching its code (docs/extending.md).

A plug-in package is scaffolded in a temporary folder outside the repository and driven through
every entry point by real processes, at toy scale: its own test, training (DataLoader worker
processes), a foreign checkpoint that needs ``--revise-keys``, ``convert_checkpoint --config``,
``tools/test.py`` on a folder test set, ``tools/derain.py``, ``count_macs``, an ablation grid
outside the repository toggling the plug-in's own component, ``analysis table``, and
``ablations rank`` against that grid as the zoo. Broken
plug-ins fail in one line that names the file and the fix, and leave nothing half-written.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from danet.datasets.pack import pack

REPO = Path(__file__).resolve().parents[1]
NAME = 'toynet'


def _pairs(folder: Path, count: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    for sub in ('rainy', 'clean'):
        (folder / sub).mkdir(parents=True)
    for i in range(count):
        clean = rng.integers(0, 200, (32, 32, 3), dtype=np.uint8)
        rainy = clean.copy()
        rainy[:, rng.integers(0, 32, 4)] = 255
        Image.fromarray(clean).save(folder / 'clean' / f'{i:03d}.png')
        Image.fromarray(rainy).save(folder / 'rainy' / f'{i:03d}.png')
    return folder


TOY_CONFIG = """_base_ = ['./{name}_1xb18-100e_rain100h.py']
model = dict(generator=dict(channels=4, blocks=1))
train_dataloader = dict(batch_size=2, num_workers=1, dataset=dict(
    ann_file={train!r}, pipeline=[dict(type='PairedRandomCrop', crop_size=24)]))
val_dataloader = dict(num_workers=0, dataset=dict(ann_file={train!r}))
_test = dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
             collate_fn=dict(type='pseudo_collate'))
test_dataloader = [dict(_test, dataset=dict(type='H5PairedDataset', ann_file={test!r},
                                            testset=name, test_mode=True, pipeline=[]))
                   for name in ('Rain100L', 'Rain100H')]
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
"""

TOY_GRID = """base = '../configs/toy.py'
axes = {{'model.generator.attention.type': [('w/o attention', '{cls}NoAttention'),
                                           ('attention', '{cls}Attention')]}}
mode = 'factorial'
seeds = [0]
testsets = ['Rain100L']
stages = ['train', 'test_images']
"""


@pytest.fixture(scope='module')
def plugin(tmp_path_factory):
    """The scaffolded package ``toynet`` (outside the repository), toy data and a toy config."""
    root = tmp_path_factory.mktemp('researcher')
    assert not root.is_relative_to(REPO)
    env = dict(os.environ, PYTHONPATH=f'{REPO}{os.pathsep}{root / "pkg"}')
    made = subprocess.run([sys.executable, '-m', 'danet', 'new-model', NAME, '--out', 'pkg'],
                          cwd=root, env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    pack(_pairs(root / 'data' / 'train', 6, 0), root / 'train.h5', val_fraction=0.34, workers=1)
    pack(_pairs(root / 'data' / 'test', 4, 1), root / 'test.h5', workers=1)
    config = root / 'pkg' / 'configs' / 'toy.py'
    config.write_text(TOY_CONFIG.format(name=NAME, train=str(root / 'train.h5'),
                                        test=str(root / 'test.h5')))
    (root / 'pkg' / 'grids' / 'toy_grid.py').write_text(TOY_GRID.format(cls='Toynet'))
    return root, config, env


def _run(plugin, *args):
    root, _, env = plugin
    return subprocess.run([sys.executable, *map(str, args)], cwd=root, env=env,
                          capture_output=True, text=True)


def _ok(done):
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done


@pytest.fixture(scope='module')
def trained(plugin) -> Path:
    """One toy epoch of the plug-in by ``tools/train.py`` (a DataLoader worker process)."""
    root, config, _ = plugin
    _ok(_run(plugin, REPO / 'tools' / 'train.py', config, '--work-dir', root / 'run'))
    return root / 'run' / 'epoch_1.pth'


@pytest.mark.slow
def test_a_plugin_runs_through_every_entry_point(plugin, trained):
    root, config, _ = plugin
    tool = REPO / 'tools'
    _ok(_run(plugin, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', root / 'pkg' / 'tests'))

    state = torch.load(trained, weights_only=True)['state_dict']
    foreign = {'module.' + k.removeprefix('generator.'): v for k, v in state.items()}
    torch.save({'params': foreign}, root / 'released.pth')   # as another repository saves it

    _ok(_run(plugin, tool / 'convert_checkpoint.py', '--config', config, root / 'released.pth',
             root / 'converted.pth', '--revise-keys', r'^module\.='))
    converted = torch.load(root / 'converted.pth', weights_only=True)['state_dict']
    assert converted.keys() == state.keys()
    assert all(torch.equal(converted[k], state[k]) for k in state)

    _ok(_run(plugin, tool / 'test.py', config, root / 'released.pth', '--work-dir', root / 'eval',
             '--revise-keys', r'^module\.=', '--protocol', 'prenet_matlab',
             '--testsets', 'Rain100L', f'Folder={root / "data" / "test"}'))
    packed, folder = (json.loads((root / 'eval' / 'results' / f'{n}.json').read_text())
                      for n in ('Rain100L', 'Folder'))
    assert folder['summary'] == packed['summary'] and len(folder['images']) == 4

    _ok(_run(plugin, tool / 'derain.py', config, root / 'converted.pth', root / 'data' / 'test' /
             'rainy', root / 'derained', '--protocol', 'prenet_matlab'))
    assert len(list((root / 'derained').glob('*.png'))) == 4
    _ok(_run(plugin, tool / 'train.py', config, '--work-dir', root / 'finetune', '--load-from',
             root / 'released.pth', '--revise-keys', r'^module\.='))
    log = next((root / 'finetune' / 'logs').glob('*.log')).read_text()
    assert f'Loaded checkpoint {root / "released.pth"}' in log
    macs = _ok(_run(plugin, tool / 'count_macs.py', config, '--shape', 3, 32, 32))
    assert 'Toynet' in macs.stdout

    grid = root / 'pkg' / 'grids' / 'toy_grid.py'
    _ok(_run(plugin, '-m', 'ablations', 'run', grid, '--work-root', root / 'ablations'))
    status = _ok(_run(plugin, '-m', 'ablations', 'status', grid, '--work-root',
                      root / 'ablations'))
    assert status.stdout.count('done') >= 2, status.stdout
    table = _ok(_run(plugin, '-m', 'analysis', 'table', root / 'ablations' / 'toy_grid',
                     '--out-dir', root / 'tables'))
    assert 'w/o attention' in table.stdout

    ranked = _ok(_run(plugin, '-m', 'ablations', 'rank', config, root / 'converted.pth',
                      '--testsets', 'Rain100L', '--protocol', 'prenet_matlab', '--zoo', grid,
                      '--work-root', root / 'ablations', '--out', root / 'rank',
                      '--gt', f'Rain100L={root / "data" / "test" / "clean"}'))
    assert 'grid toy_grid: 0 of 2 runs to do' in ranked.stdout   # the zoo is cached
    table = (root / 'rank' / 'rank.md').read_text()
    assert all(m in table for m in ('(candidate)', 'w/o attention', '| attention'))
    significance = json.loads((root / 'rank' / 'significance.json').read_text())
    assert {c['metric'] for c in significance} == {'psnr_y', 'ssim_y'}
    assert all(c['n_images'] == 4 for c in significance)
    assert (root / 'rank' / 'figure_Rain100L.png').is_file()


BROKEN_MODEL = {
    'import': ('import not_installed_anywhere  # noqa\n', 'not_installed_anywhere',
               'model.py:1'),
    'shape': ('{source}\n{cls}.forward = lambda self, x: [x[..., 1:, :]]\n',
              'forward returned a final image of shape', 'generator contract'),
}


def _broken(plugin, tmp_path, name: str, model_source: str, config_extra: str = '') -> Path:
    """A copy of the plug-in as package ``name``, its model.py replaced by ``model_source``."""
    root, config, _ = plugin
    package = tmp_path / name
    package.mkdir()
    source = (root / 'pkg' / NAME / 'model.py').read_text().replace('Toynet', 'Bad' + name)
    (package / '__init__.py').write_text(f'from {name} import model  # noqa\n')
    (package / 'model.py').write_text(model_source.format(source=source, cls='Bad' + name))
    broken_config = tmp_path / f'{name}.py'
    broken_config.write_text(
        f"_base_ = [{str(config)!r}]\ncustom_imports = dict(imports=[{name!r}])\n"
        f"model = dict(generator=dict(type='Bad{name}', attention=dict(type='Bad{name}"
        f"Attention')))\n{config_extra}")
    return broken_config


def _one_line_error(done, *needles):
    assert done.returncode == 2, (done.stdout + done.stderr)[-3000:]
    assert 'Traceback' not in done.stderr, done.stderr[-3000:]
    line = next(x for x in done.stderr.splitlines() if x.startswith('error:'))
    for needle in needles:
        assert needle in line, line
    return line


@pytest.mark.slow
def test_broken_plugins_fail_in_one_line_naming_the_file_and_the_fix(plugin, trained, tmp_path):
    root, config, env = plugin
    env = dict(env, PYTHONPATH=f'{env["PYTHONPATH"]}{os.pathsep}{tmp_path}')
    tool = REPO / 'tools'
    ckpt = trained

    def run(*args):
        return subprocess.run([sys.executable, *map(str, args)], cwd=tmp_path, env=env,
                              capture_output=True, text=True)

    imp = _broken(plugin, tmp_path, 'badimport', BROKEN_MODEL['import'][0])
    _one_line_error(run(tool / 'test.py', imp, ckpt, '--work-dir', tmp_path / 'w1'),
                    str(imp), "custom_imports cannot import 'badimport'",
                    'not_installed_anywhere', 'badimport/model.py:1', 'fix that file')
    assert not (tmp_path / 'w1').exists()

    absent = tmp_path / 'absent.py'
    absent.write_text(f"_base_ = [{str(config)!r}]\ncustom_imports = dict(imports=['nowhere'])\n")
    _one_line_error(run(tool / 'derain.py', absent, ckpt, root / 'data' / 'test' / 'rainy',
                        tmp_path / 'w2'), "no module 'nowhere'", 'PYTHONPATH', 'pip install -e')

    typo = tmp_path / 'typo.py'
    typo.write_text(f"_base_ = [{str(config)!r}]\nmodel = dict(generator=dict(type='Toynett'))\n")
    _one_line_error(run(tool / 'test.py', typo, ckpt, '--work-dir', tmp_path / 'w3'),
                    str(typo), "model.generator.type = 'Toynett'", 'closest: Toynet',
                    'register_module', 'custom_imports')
    assert not (tmp_path / 'w3').exists()

    shape = _broken(plugin, tmp_path, 'badshape', BROKEN_MODEL['shape'][0])
    _one_line_error(run(tool / 'derain.py', shape, ckpt, root / 'data' / 'test' / 'rainy',
                        tmp_path / 'w4'), 'Badbadshape', 'badshape/model.py',
                    'forward returned a final image of shape (1, 3, 31, 32)', 'generator contract')
    assert not list((tmp_path / 'w4').glob('*.png')) if (tmp_path / 'w4').exists() else True

    count = tmp_path / 'count.py'
    count.write_text(f"_base_ = [{str(config)!r}]\nmodel = dict(losses=[dict(type='SSIMLoss', "
                     "name='ssim', outputs=[1], loss_weight=1.0)])\n")
    _one_line_error(run(tool / 'train.py', count, '--work-dir', tmp_path / 'w5'),
                    "'ssim'", 'returned 1 output')
    assert not list((tmp_path / 'w5').glob('*.pth'))

    state = torch.load(ckpt, weights_only=True)['state_dict']
    state.pop('generator.tail.bias')
    torch.save(state, tmp_path / 'partial.pth')
    _one_line_error(run(tool / 'test.py', config, tmp_path / 'partial.pth', '--work-dir',
                        tmp_path / 'w6'), str(tmp_path / 'partial.pth'), '--revise-keys')
    assert not (tmp_path / 'w6' / 'results').exists()
