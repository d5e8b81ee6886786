"""A results store made by really running a tiny grid (``python -m ablations run``).

The grid applies classical filters (``make_predictions.py``) to real Rain100L pairs, scores them
with ``tools/eval_folder.py`` and takes its complexity from one ``tools/count_macs.py`` run over
the real DANet smoke config and its ALM variant (``pick_complexity.py``): 3 variants × 2 seeds.
A further ``eval_folder`` output (the rainy input itself) stands for an external method.
Nothing in the store is written by hand.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

IMAGES = ('001.png', '002.png', '003.png')
ALM_OFF = 'model.generator.alm.type=PlainALM'
HERE = Path(__file__).parent
# The filter runs read no dataset, but the grid checks every config's data paths exist first.
DATA_PATHS = '''
train_dataloader = dict(dataset=dict(ann_file={path!r}))
val_dataloader = dict(dataset=dict(ann_file={path!r}))
test_dataloader = [dict(batch_size=1, num_workers=0, collate_fn=dict(type='pseudo_collate'),
                        sampler=dict(type='DefaultSampler', shuffle=False),
                        dataset=dict(type='H5PairedDataset', ann_file={path!r},
                                     testset='Rain100L', test_mode=True, pipeline=[]))]
'''
GRID = '''
base = {base!r}
mode = 'one_at_a_time'
axes = {{'model.generator.alm.type': [('w/o ALM', 'PlainALM')],
         'derain_filter.kind': [('median on', 'median')]}}
axis_names = {{'derain_filter.kind': 'Filter'}}
seeds = [0, 1]
testsets = ['Rain100L']
stages = [
    dict(name='predict', outputs=['images/Rain100L/001.png'],
         argv=['{{python}}', {predict!r}, '{{run_dir}}', {rainy!r}, '--testset', 'Rain100L',
               '--seed', '{{seed}}', '--cfg-options', '{{cfg_options}}']),
    dict(name='test', outputs=['results/{{testset}}.json'],
         argv=['{{python}}', 'tools/eval_folder.py', '{{run_dir}}/images/Rain100L', {gt!r},
               '--testset', 'Rain100L', '--method', 'filter', '--out-dir', '{{run_dir}}/results',
               '--no-lpips']),
    dict(name='macs', outputs=['complexity.json'],
         argv=['{{python}}', {pick!r}, {counts!r}, '{{run_dir}}/complexity.json',
               '--cfg-options', '{{cfg_options}}']),
]
'''


def _run(argv, env):
    proc = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if proc.returncode:
        pytest.fail(f'{" ".join(map(str, argv))} failed:\n{proc.stdout[-3000:]}\n'
                    f'{proc.stderr[-3000:]}')


@pytest.fixture(scope='session')
def pairs(shared_data, tmp_path_factory) -> dict[str, Path]:
    """Three real Rain100L pairs: {'rainy': DIR, 'gt': DIR}."""
    root = tmp_path_factory.mktemp('pairs')
    for kind, sub in (('rainy', 'rainy'), ('gt', 'clean')):
        (root / kind).mkdir()
        for name in IMAGES:
            shutil.copy(shared_data / 'Rain100L' / sub / name, root / kind / name)
    return {'rainy': root / 'rainy', 'gt': root / 'gt'}


@pytest.fixture(scope='session')
def store_root(pairs, tmp_path_factory) -> Path:
    """``ROOT/grid/<grid>/<run_id>/`` (6 grid runs) and ``ROOT/external/rainy_input/``."""
    root = tmp_path_factory.mktemp('store')
    base = root / 'filter_base.py'
    smoke = REPO_ROOT / 'configs/danet/danet_smoke-cpu_1xb4-100e_train40.py'
    base.write_text(f"_base_ = [{str(smoke)!r}]\n"
                    "derain_filter = dict(kind='none')  # not 'type': no registry holds it\n"
                    + DATA_PATHS.format(path=str(pairs['rainy'])))
    counts = root / 'counts.json'
    grid = root / 'filters.py'
    grid.write_text(GRID.format(base=str(base), rainy=str(pairs['rainy']), gt=str(pairs['gt']),
                                predict=str(HERE / 'make_predictions.py'),
                                pick=str(HERE / 'pick_complexity.py'), counts=str(counts)))
    env = {**os.environ, 'PYTHONPATH': str(REPO_ROOT)}
    _run([sys.executable, 'tools/count_macs.py', str(base), '--shape', '3', '32', '32',
          '--variant', ALM_OFF, ALM_OFF, '--out', str(counts)], env)
    _run([sys.executable, '-m', 'ablations', 'run', str(grid), '--work-root', str(root / 'grid'),
          '--max-parallel', '2'], env)
    _run([sys.executable, 'tools/eval_folder.py', str(pairs['rainy']), str(pairs['gt']),
          '--testset', 'Rain100L', '--method', 'rainy input', '--no-lpips',
          '--out-dir', str(root / 'external' / 'rainy_input' / 'results')], env)
    return root
