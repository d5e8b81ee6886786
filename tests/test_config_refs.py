"""``danet::PATH`` config references: resolved from any folder, and shipped with the package."""
import configparser
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

import danet  # noqa: F401 - registers the danet:: prefix
from danet.config_refs import SHIPPED_CONFIGS, shipped_config

REPO = Path(__file__).resolve().parents[1]


def test_a_config_outside_the_repo_inherits_shipped_bases(tmp_path):
    cfg_file = tmp_path / 'mine.py'
    cfg_file.write_text("_base_ = ['danet::_base_/models/prenet.py',\n"
                        "          'danet::_base_/default_runtime.py']\n"
                        'model = dict(generator=dict(stages=3))\n')
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.model.generator == dict(type='PReNet', stages=3)
    assert cfg.model.losses[0]['type'] == 'SSIMLoss'
    assert '_scope_' not in cfg.model  # built in the danet scope like every shipped config


def test_the_reference_resolves_in_a_fresh_process_from_another_folder(tmp_path):
    (tmp_path / 'mine.py').write_text(
        "_base_ = ['danet::_base_/schedules/prenet_multistep_100e.py']\n")
    code = ('import danet; from mmengine.config import Config; '
            'print(Config.fromfile("mine.py").train_cfg.max_epochs)')
    out = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, capture_output=True,
                         text=True, check=True, env={'PYTHONPATH': str(REPO), 'PATH': ''})
    assert out.stdout.strip() == '100'


def test_an_unknown_reference_names_the_closest_shipped_configs():
    with pytest.raises(FileNotFoundError, match=r'danet::_base_/models/prenet\.py'):
        shipped_config('danet::_base_/models/prenett.py')


def test_package_data_ships_every_config():
    """``pip install .`` (not editable) copies what ``setup.cfg``'s package_data globs match."""
    parser = configparser.ConfigParser()
    parser.read(REPO / 'setup.cfg')
    patterns = [p.strip() for p in parser['options.package_data']['danet'].split(',')]
    shipped = {p.resolve() for pattern in patterns for p in (REPO / 'danet').glob(pattern)}
    every = {p.resolve() for p in (REPO / 'configs').rglob('*.py')}
    assert SHIPPED_CONFIGS.resolve() == (REPO / 'configs').resolve()
    assert every and every <= shipped
