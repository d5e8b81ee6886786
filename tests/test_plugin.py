"""A researcher's model on the platform without touching its code (docs/extending.md).

A plug-in package is scaffolded in a temporary folder outside the repository and driven through
every entry point at toy scale (training, ``tools/test.py`` and ``ablations rank`` as real
processes, the rest in this process to keep the test short): its own test, training with a
DataLoader worker process, a foreign checkpoint that needs ``--revise-keys``,
``convert_checkpoint --config``, ``tools/test.py`` on a folder test set, ``tools/derain.py``,
``train --load-from``, ``count_macs``, ``benchmark_inference``, and ``ablations rank`` with the
plug-in's own grid outside the repository (toggling its component) as the zoo, then
``analysis table`` on that grid. Broken plug-ins fail in one line that names the file and the
fix, and leave nothing half-written.
"""
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from analysis.__main__ import main as analysis_main
from danet.__main__ import main as danet_main
from danet.datasets.pack import pack
from danet.utils.cli import run_main
from tests.test_engine.conftest import _write_tiny
from tools import benchmark_inference as bench_tool
from tools import convert_checkpoint as convert_tool
from tools import count_macs as macs_tool
from tools import derain as derain_tool
from tools import test as test_tool
from tools import train as train_tool
from tools import zoo_complexity as zoo_tool

REPO = Path(__file__).resolve().parents[1]
NAME = 'toynet'


TOY_CONFIG = """_base_ = ['./{name}_1xb18-100e_train40.py']
model = dict(generator=dict(channels=4, blocks=1))
train_dataloader = dict(batch_size=2, num_workers=1, dataset=dict(
    type='H5PairedDataset', split='train', ann_file={train!r},
    pipeline=[dict(type='PairedRandomCrop', crop_size=24)]))
val_dataloader = dict(num_workers=0, dataset=dict(type='H5PairedDataset', split='val',
                                                  ann_file={train!r}, pipeline=[]))
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
    assert danet_main(['new-model', NAME, '--out', str(root / 'pkg')]) == 0
    pack(_write_tiny(root / 'data' / 'train', 6, 0), root / 'train.h5', val_fraction=0.34,
         workers=1)
    pack(_write_tiny(root / 'data' / 'test', 4, 1), root / 'test.h5', workers=1)
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


@pytest.fixture
def importable(plugin, monkeypatch):
    """The plug-in importable in this process too (as ``PYTHONPATH=DIR`` makes it)."""
    monkeypatch.syspath_prepend(str(plugin[0] / 'pkg'))
    monkeypatch.chdir(plugin[0])
    # the toy config overrides every data path; unset, the shipped Train40 config's
    # {{$DANET_SHARED:...}} is not announced through MMEngine's logger (whose stream an earlier
    # test's capture may have closed), so the error lines checked below stay the only output
    monkeypatch.delenv('DANET_SHARED', raising=False)


def _entry(main, argv, capsys) -> tuple[int, str, str]:
    """Run a tool's ``main`` as its script does (``run_main``): exit code, stderr, stdout."""
    with pytest.raises(SystemExit) as done:
        run_main(lambda: main([str(a) for a in argv]))
    captured = capsys.readouterr()
    return done.value.code or 0, captured.err, captured.out


@pytest.mark.slow
def test_a_plugin_runs_through_every_entry_point(plugin, trained, importable, capsys):
    root, config, _ = plugin
    scaffold_test = runpy.run_path(str(root / 'pkg' / 'tests' / f'test_{NAME}.py'))
    for name, check in scaffold_test.items():     # the scaffold's own test passes
        if name.startswith('test_'):
            check()

    state = torch.load(trained, weights_only=True)['state_dict']
    foreign = {'module.' + k.removeprefix('generator.'): v for k, v in state.items()}
    torch.save({'params': foreign}, root / 'released.pth')   # as another repository saves it
    assert _entry(convert_tool.main, ['--config', config, root / 'released.pth',
                                      root / 'converted.pth', '--revise-keys', r'^module\.='],
                  capsys)[0] == 0
    converted = torch.load(root / 'converted.pth', weights_only=True)['state_dict']
    assert converted.keys() == state.keys()
    assert all(torch.equal(converted[k], state[k]) for k in state)

    _ok(_run(plugin, REPO / 'tools' / 'test.py', config, root / 'released.pth', '--work-dir',
             root / 'eval', '--revise-keys', r'^module\.=', '--protocol', 'prenet_matlab',
             '--testsets', 'Rain100L', f'Folder={root / "data" / "test"}'))
    packed, folder = (json.loads((root / 'eval' / 'results' / f'{n}.json').read_text())
                      for n in ('Rain100L', 'Folder'))
    assert folder['summary'] == packed['summary'] and len(folder['images']) == 4

    assert _entry(derain_tool.main, [config, root / 'converted.pth', root / 'data' / 'test' /
                                     'rainy', root / 'derained', '--protocol', 'prenet_matlab'],
                  capsys)[0] == 0
    assert len(list((root / 'derained').glob('*.png'))) == 4
    assert _entry(train_tool.main, [config, '--work-dir', root / 'finetune', '--load-from',
                                    root / 'released.pth', '--revise-keys', r'^module\.='],
                  capsys)[0] == 0
    log = next((root / 'finetune' / 'logs').glob('*.log')).read_text()
    assert f'Loaded checkpoint {root / "released.pth"}' in log
    code, _, out = _entry(macs_tool.main, [config, '--shape', 3, 32, 32], capsys)
    assert code == 0 and 'Toynet' in out
    code, _, out = _entry(bench_tool.main, ['--models', config, '--shapes', '32x32', '--warmup', 0,
                                            '--repeats', 1, '--skip-peak'], capsys)
    assert code == 0 and str(config) in out      # the plug-in's generator, timed by its config
    code, _, out = _entry(zoo_tool.main, [root / 'zoo', '--size', 16, 16, '--models', 'prn_r',
                                          config, '--warmup', 0, '--repeats', 1], capsys)
    rows = json.loads((root / 'zoo' / 'zoo_complexity.json').read_text())['rows']
    assert code == 0 and _entry(analysis_main, ['complexity', root / 'zoo' / 'zoo_complexity.json'],
                                capsys)[0] == 0
    table = (root / 'zoo' / 'zoo_complexity.md').read_text()
    assert f'| {config.stem} |' in table     # a row of the zoo's complexity table
    assert [(r['label'], r['model']) for r in rows] == [('prn_r', 'PRN_r'), (config.stem, 'Toynet')]

    # the zoo: the plug-in's own grid outside the repository, run by ablations rank
    grid = root / 'pkg' / 'grids' / 'toy_grid.py'
    ranked = _ok(_run(plugin, '-m', 'ablations', 'rank', config, root / 'converted.pth',
                      '--testsets', 'Rain100L', '--protocol', 'prenet_matlab', '--zoo', grid,
                      '--work-root', root / 'ablations', '--out', root / 'rank',
                      '--gt', f'Rain100L={root / "data" / "test" / "clean"}'))
    assert 'grid toy_grid: 2 of 2 runs to do' in ranked.stdout
    table = (root / 'rank' / 'rank.md').read_text()
    assert all(m in table for m in ('(candidate)', 'w/o attention', '| attention'))
    significance = json.loads((root / 'rank' / 'significance.json').read_text())
    assert {c['metric'] for c in significance} == {'psnr_y', 'ssim_y'}
    assert all(c['n_images'] == 4 for c in significance)
    assert (root / 'rank' / 'figure_Rain100L.png').is_file()
    analysis_main(['table', str(root / 'ablations' / 'toy_grid'), '--out-dir',
                   str(root / 'tables')])
    assert 'w/o attention' in capsys.readouterr().out


def _broken(plugin, folder: Path, name: str, model_source: str) -> Path:
    """A copy of the plug-in as package ``name`` whose model.py is ``model_source``."""
    root, config, _ = plugin
    package = folder / name
    package.mkdir()
    source = (root / 'pkg' / NAME / 'model.py').read_text().replace('Toynet', 'Bad' + name)
    (package / '__init__.py').write_text(f'from {name} import model  # noqa\n')
    (package / 'model.py').write_text(model_source.format(source=source, cls='Bad' + name))
    broken_config = folder / f'{name}.py'
    broken_config.write_text(
        f"_base_ = [{str(config)!r}]\ncustom_imports = dict(imports=[{name!r}])\n"
        f"model = dict(generator=dict(type='Bad{name}', attention=dict(type='Bad{name}"
        "Attention')))\n")
    return broken_config


def _one_line_error(entry, *needles):
    code, err, _ = entry
    assert code == 2, err[-3000:]
    assert 'Traceback' not in err, err[-3000:]
    line = next(x for x in err.splitlines() if x.startswith('error:'))
    for needle in needles:
        assert needle in line, line
    return line


@pytest.mark.slow
def test_broken_plugins_fail_in_one_line_naming_the_file_and_the_fix(
        plugin, trained, importable, tmp_path, monkeypatch, capsys):
    root, config, _ = plugin
    monkeypatch.syspath_prepend(str(tmp_path))
    rainy = root / 'data' / 'test' / 'rainy'

    imp = _broken(plugin, tmp_path, 'badimport', 'import not_installed_anywhere  # noqa\n')
    _one_line_error(_entry(test_tool.main, [imp, trained, '--work-dir', tmp_path / 'w1'], capsys),
                    str(imp), "custom_imports cannot import 'badimport'",
                    'not_installed_anywhere', 'badimport/model.py:1', 'fix that file')
    assert not (tmp_path / 'w1').exists()

    absent = tmp_path / 'absent.py'
    absent.write_text(f"_base_ = [{str(config)!r}]\ncustom_imports = dict(imports=['nowhere'])\n")
    _one_line_error(_entry(derain_tool.main, [absent, trained, rainy, tmp_path / 'w2'], capsys),
                    "no module 'nowhere'", 'PYTHONPATH', 'pip install -e')

    typo = tmp_path / 'typo.py'
    typo.write_text(f"_base_ = [{str(config)!r}]\nmodel = dict(generator=dict(type='Toynett'))\n")
    _one_line_error(_entry(test_tool.main, [typo, trained, '--work-dir', tmp_path / 'w3'], capsys),
                    str(typo), "model.generator.type = 'Toynett'", 'closest: Toynet',
                    'register_module', 'custom_imports')
    assert not (tmp_path / 'w3').exists()

    shape = _broken(plugin, tmp_path, 'badshape',
                    '{source}\n{cls}.forward = lambda self, x: [x[..., 1:, :]]\n')
    _one_line_error(_entry(derain_tool.main, [shape, trained, rainy, tmp_path / 'w4'], capsys),
                    'Badbadshape', 'badshape/model.py', 'generator contract',
                    'forward returned a final image of shape (1, 3, 47, 48)')
    assert not list(tmp_path.glob('w4/*.png'))

    count = tmp_path / 'count.py'
    count.write_text(f"_base_ = [{str(config)!r}]\nmodel = dict(losses=[dict(type='SSIMLoss', "
                     "name='ssim', outputs=[1], loss_weight=1.0)])\n")
    _one_line_error(_entry(train_tool.main, [count, '--work-dir', tmp_path / 'w5'], capsys),
                    "'ssim'", 'returned 1 output', 'model.losses')
    assert not list(tmp_path.glob('w5/*.pth'))

    state = torch.load(trained, weights_only=True)['state_dict']
    state.pop('generator.tail.bias')
    torch.save(state, tmp_path / 'partial.pth')
    _one_line_error(_entry(test_tool.main, [config, tmp_path / 'partial.pth', '--work-dir',
                                            tmp_path / 'w6'], capsys),
                    str(tmp_path / 'partial.pth'), '--revise-keys')
    assert not (tmp_path / 'w6' / 'results').exists()
