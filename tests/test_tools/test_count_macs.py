"""``tools/count_macs.py``: JSON output, per-config overrides and the comparison table."""
import importlib.util
import json

import pytest


@pytest.fixture(scope='module')
def count_macs(repo_root):
    spec = importlib.util.spec_from_file_location('count_macs', repo_root / 'tools/count_macs.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_danet_at_256_reports_the_published_macs(count_macs, repo_root, tmp_path, capsys):
    out = tmp_path / 'complexity.json'
    count_macs.main([str(repo_root / 'configs/_base_/models/danet.py'),
                      '--shape', '3', '256', '256', '--out', str(out)])
    report = json.loads(out.read_text())
    assert 32.6 <= report['gmacs'] <= 32.7 and report['params'] == 2_943_138
    assert report['model'] == 'DANet' and report['shape'] == [3, 256, 256]
    assert 'dsnet.trunk' in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ['complexity.json']  # no temporary left


def test_compare_applies_each_variants_overrides(count_macs, repo_root, tmp_path, capsys):
    out = tmp_path / 'compare.json'
    count_macs.main([str(repo_root / 'configs/_base_/models/danet.py'), '--shape', '3', '32', '32',
                      '--cfg-options', 'model.generator.n_feat=8', 'model.generator.num_cab=1',
                      '--variant', 'plain_alm', 'model.generator.alm.type=PlainALM',
                      '--out', str(out)])
    rows = json.loads(out.read_text())
    assert [row['label'] for row in rows] == ['danet', 'plain_alm']
    assert rows[1]['params'] < rows[0]['params'] and rows[1]['macs'] < rows[0]['macs']
    printed = capsys.readouterr().out
    assert 'plain_alm' in printed and 'vs first' in printed


def test_config_without_generator_is_named(count_macs, tmp_path):
    config = tmp_path / 'empty.py'
    config.write_text('model = dict(type="DerainModel")\n')
    with pytest.raises(KeyError, match='empty.py'):
        count_macs.main([str(config)])


def test_misspelt_override_is_refused(count_macs, repo_root):
    with pytest.raises(ValueError, match='model.generator.alm.typ'):
        count_macs.main([str(repo_root / 'configs/_base_/models/danet.py'),
                          '--cfg-options', 'model.generator.alm.typ=PlainALM'])
