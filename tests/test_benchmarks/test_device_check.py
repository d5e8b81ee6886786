"""The GPU check on a CPU-only machine: every part skips with its reason and the page is written;
the logic of the parts (golden comparison, interleaved latency, training curves and their
tolerance, the loader verdict) runs here on the CPU at tiny sizes."""
import json
import os
import subprocess
import sys

import pytest
import torch

from danet.benchmarks import device_check, device_parts
from danet.benchmarks.device_check import PARTS, Settings, run_device_check
from danet.benchmarks.loader import crops_per_second
from danet.datasets.h5_dataset import H5PairedDataset

SMOKE = 'configs/danet/danet_smoke-cpu_1xb4-100e_train40.py'


def test_without_cuda_every_part_skips_with_its_reason_and_the_page_is_written(repo_root,
                                                                               tmp_path):
    out = tmp_path / 'check'
    proc = subprocess.run([sys.executable, 'tools/device_check.py', '--out-dir', str(out)],
                          cwd=repo_root, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, CUDA_VISIBLE_DEVICES=''))
    assert proc.returncode == 3, proc.stderr   # nothing failed, nothing checked: not green
    assert f'not green: {len(PARTS)} of {len(PARTS)} part(s) skipped' in proc.stderr
    report = json.loads((out / 'device_check.json').read_text())
    assert list(report['parts']) == list(PARTS)
    for part in report['parts'].values():
        assert part['status'] == 'skip' and 'CUDA' in part['summary']
    page = (out / 'device_check.md').read_text()
    assert page.startswith('# GPU check') and page.count('| skip |') == len(PARTS)
    assert not list(out.glob('*.tmp'))


def device_check_tool(argv) -> int:
    from danet.utils.cli import run_main
    from tools.device_check import main
    with pytest.raises(SystemExit) as stop:
        run_main(lambda: main(argv))
    return stop.value.code


@pytest.mark.parametrize('device', ['foo', '', 'cuda1', 'CUDA', 'cuda:-1', 'cpu'])
def test_a_device_typo_is_refused_before_any_part_runs(device, tmp_path, capsys):
    """It skipped every part and exited 0: on a GPU machine a typo looked green."""
    assert device_check_tool(['--device', device, '--out-dir', str(tmp_path / 'out')]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f'error: --device {device!r}') and len(err.splitlines()) == 1
    assert not (tmp_path / 'out').exists()


def test_an_absent_gpu_is_not_green_unless_skips_are_allowed(tmp_path, capsys):
    out = tmp_path / 'out'
    args = ['--device', 'cuda:99', '--parts', 'golden', 'memory', '--out-dir', str(out)]
    assert device_check_tool(args) == 3
    assert 'cuda:99 is not available here' in (out / 'device_check.md').read_text()
    assert device_check_tool([*args, '--allow-skips']) == 0
    capsys.readouterr()


def test_a_second_check_into_one_folder_is_refused_naming_the_holder(tmp_path, capsys):
    from danet.utils.run_lock import RunLock
    out = tmp_path / 'out'
    with RunLock(out).held('device check'):
        assert device_check_tool(['--device', 'cuda:99', '--out-dir', str(out)]) == 2
    err = capsys.readouterr().err
    assert f'{out} is in use by another device check: pid {os.getpid()}' in err
    assert not (out / 'device_check.json').exists()


def test_a_failing_part_is_reported_and_the_others_still_run(tmp_path, monkeypatch):
    def broken(settings, done):
        raise RuntimeError('kernel exploded')

    def measured(settings, done):
        return dict(status='measured', summary='ok', rows=[dict(shape=[2, 3], ms=1.5)])
    monkeypatch.setitem(device_check.CHECKS, 'golden', broken)
    monkeypatch.setitem(device_check.CHECKS, 'latency', measured)
    report = run_device_check(tmp_path, Settings(device='cpu'), ['golden', 'latency', 'train'],
                              progress=lambda line: None)
    assert {n: p['status'] for n, p in report['parts'].items()} == dict(
        golden='error', train='skip', latency='measured')   # in the order of PARTS
    assert 'kernel exploded' in report['parts']['golden']['traceback']
    page = (tmp_path / 'device_check.md').read_text()
    assert '| 2x3 | 1.500 |' in page and 'RuntimeError: kernel exploded' in page
    with pytest.raises(ValueError, match='unknown part'):
        run_device_check(tmp_path, Settings(device='cpu'), ['golden', 'speed'])


def test_golden_comparison_passes_on_cpu_and_catches_a_wrong_weight(shared_data, repo_root):
    cases = device_parts.golden_cases(shared_data, repo_root / 'tests' / 'data')
    rows = device_parts.compare_golden(cases, 'cpu')
    assert [r['model'] for r in rows] == ['DANet', 'MPRNet', 'PReNet', 'PCNet']
    assert all(r['passed'] and r['outputs'] == 2 or r['model'] == 'MPRNet' for r in rows), rows
    assert next(r for r in rows if r['model'] == 'MPRNet')['outputs'] == 3
    with torch.no_grad():
        next(cases['PReNet'][0].parameters()).mul_(1.01)
    rows = device_parts.compare_golden({'PReNet': cases['PReNet']}, 'cpu')
    assert not rows[0]['passed'] and rows[0]['max_abs_diff'] > device_parts.GOLDEN_TOLERANCE


def test_latency_rows_interleave_danet_and_mprnet_per_shape_and_variant():
    seen = []
    rows = device_parts.latency_rows([(32, 48)], ('fp32', 'channels_last'), 'cpu', 0, 1,
                                     progress=seen.append)
    assert [r['variant'] for r in rows] == ['fp32', 'channels_last'] and seen == rows
    for row in rows:
        assert row['shape'] == [32, 48] and row['danet_ms'] > 0 and row['mprnet_ms'] > 0
        assert row['danet_over_mprnet'] == pytest.approx(row['danet_ms'] / row['mprnet_ms'])
    with pytest.raises(ValueError, match='unknown variant'):
        device_parts.latency_variant('danet', 'int8', 'cpu')


def test_training_curves_repeat_and_the_tolerance_catches_a_diverging_curve(repo_root):
    options = {'model.generator.n_feat': 8, 'model.generator.num_cab': 1}
    curves = [device_parts.train_curve(str(repo_root / SMOKE), 'cpu', False, 2, 32, 3,
                                       cfg_options=options) for _ in range(2)]
    assert curves[0]['losses'] == curves[1]['losses'] and curves[0]['steps_per_s'] > 0
    falling = [1.0 - 0.01 * i for i in range(40)]
    agree = device_parts.curves_agree(falling, [v * 1.05 for v in falling])
    assert agree['passed'] and agree['max_rel_window_diff'] == pytest.approx(0.05)
    assert not device_parts.curves_agree(falling, [v * 1.2 for v in falling])['passed']
    assert not device_parts.curves_agree(falling, falling[::-1])['passed']   # rises
    with pytest.raises(ValueError, match='cannot be compared'):
        device_parts.curves_agree(falling, falling[:5])


def test_loader_rate_against_the_step_rate_gives_the_verdict(tmp_path):
    h5 = device_check._synthetic_pack(tmp_path, pairs=8, size=48)
    dataset = H5PairedDataset(str(h5), split='train',
                              pipeline=[dict(type='PairedRandomCrop', crop_size=32)])
    rate = crops_per_second(dataset, crops=16, workers=0, batch=4)
    assert rate > 0
    assert device_parts.feed_verdict(rate, rate / 2)['fed']
    starved = device_parts.feed_verdict(rate, rate)
    assert not starved['fed'] and starved['verdict'].startswith('starved: the loader gives 1.00x')
