"""``--reference`` of both benchmark tools: real worker processes, one row per model and path with
the ratio to the re-stated authors' code (DANet, the PReNet family on its released weights), page
faults per call and, for inference, each side's fraction of its matmul rate."""
import importlib.util
import json
import subprocess
import sys

import pytest


def _tool(repo_root, name):
    spec = importlib.util.spec_from_file_location(name, repo_root / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check(rows, paths, shape):
    assert [r['path'] for r in rows] == paths
    for row in rows:
        assert row['threads'] == 1 and row['shape'] == shape
        assert row['ratio'] == pytest.approx(row['ours_ms'] / row['reference_ms'])
        assert row['cpu_ratio'] == pytest.approx(row['ours_cpu_ms'] / row['reference_cpu_ms'])
        assert row['ours_faults'] >= 0 and row['reference_faults'] >= 0


@pytest.mark.slow
def test_inference_and_training_reference_modes(repo_root, shared_data, tmp_path, capsys):
    weights = shared_data / 'reference_outputs' / 'danet_official_random.pth'
    _tool(repo_root, 'benchmark_inference').main(
        ['--reference', '--models', 'danet', 'prenet', '--threads', '1', '--shapes', '32x48',
         '--warmup', '0', '--repeats', '1', '--out', str(tmp_path / 'inf.json')])
    rows = json.loads((tmp_path / 'inf.json').read_text())['rows']
    _check(rows, ['derain', 'predict'] * 2, [32, 48])
    assert [r['model'] for r in rows] == ['danet', 'danet', 'prenet', 'prenet']
    for row in rows:
        for side in ('ours', 'reference'):
            assert 0 < row[f'{side}_of_mm'] < 2
    _tool(repo_root, 'benchmark_train').main(
        ['--reference', '--threads', '1', '--batch', '1', '--crops', '32', '--warmup', '0',
         '--steps', '1', '--weights', str(weights), '--out', str(tmp_path / 'train.json')])
    _check(json.loads((tmp_path / 'train.json').read_text())['rows'], ['train', 'train_cl'],
           [1, 32])
    out = capsys.readouterr().out
    assert 'load average at start' in out and 'faults ours' in out


def test_missing_weights_exit_2(repo_root, tmp_path):
    proc = subprocess.run([sys.executable, 'tools/benchmark_inference.py', '--reference',
                           '--weights', str(tmp_path / 'none.pth')], cwd=repo_root,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith('error: --weights:') and 'Traceback' not in proc.stderr


def test_a_model_without_a_reference_is_refused(repo_root):
    proc = subprocess.run([sys.executable, 'tools/benchmark_inference.py', '--reference',
                           '--models', 'mprnet'], cwd=repo_root, capture_output=True, text=True)
    assert proc.returncode == 2 and 'no re-stated reference for mprnet' in proc.stderr
