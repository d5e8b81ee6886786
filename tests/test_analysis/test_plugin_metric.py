"""A metric is one row, end to end: a metric registered from outside the package (a plug-in
module in a temporary folder) is scored by ``score_pair``, recorded with its row in the results
files, and appears in the ablation table and in the significance tests of ``python -m analysis``
run without the plug-in (its row taken out of the table first, as in a fresh process that never
imports it: the row comes back from the results files); nothing in analysis is edited."""
import csv
import json
import sys

import numpy as np
import pytest

from danet.evaluation.metric_table import METRIC_TABLE, metrics_for
from danet.evaluation.protocols import build_protocol
from danet.evaluation.results import build_results, read_results, write_results

PLUGIN = '''"""A researcher's metric: mean absolute error in grey levels (lower is better)."""
import numpy as np

from danet.evaluation.metric_table import MetricSpec, register_metric


def _mae(protocol, pred, gt, scorer):
    return float(np.abs(pred.astype(np.float64) - gt.astype(np.float64)).mean())


register_metric(MetricSpec('mae_probe', _mae, higher_is_better=False, decimals=3,
                           label='MAE probe'))
'''


@pytest.fixture
def plugin_metric(tmp_path, monkeypatch):
    (tmp_path / 'plugin').mkdir()
    (tmp_path / 'plugin' / 'probe_metric.py').write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path / 'plugin'))
    monkeypatch.delitem(sys.modules, 'probe_metric', raising=False)
    import probe_metric  # noqa: F401  (registers the row)
    yield 'mae_probe'
    METRIC_TABLE.pop('mae_probe', None)
    sys.modules.pop('probe_metric', None)


def _write_store(root, key):
    from danet.evaluation.metrics import score_pair
    protocol = build_protocol(dict(type='mprnet_matlab'))
    rng = np.random.default_rng(0)
    gts = [rng.integers(0, 256, (24, 24, 3), dtype=np.uint8) for _ in range(12)]
    for method, noise, axes in (('base', 8, {}),
                                ('w/o A', 20, {'a': {'label': 'w/o A', 'value': 'x'}})):
        for seed in (0, 1):
            rows = []
            for i, gt in enumerate(gts):
                pred = np.clip(gt + rng.normal(0, noise, gt.shape), 0, 255).astype(np.uint8)
                rows.append({'name': f'{i:03d}.png',
                             **score_pair(pred, gt, ('psnr_y', 'ssim_y', key), protocol)})
            run = root / f'{method.replace("/", "")}_s{seed}'
            write_results(run / 'results' / 'Rain100L.json',
                          build_results('Rain100L', method, rows, protocol.conventions(), None,
                                        'gt1'))
            (run / 'run.json').write_text(json.dumps(
                {'grid': 'g', 'run_id': run.name, 'seed': seed, 'axes': axes}))
            (run / 'DONE.json').write_text('{}')


@pytest.mark.slow
def test_a_plugin_metric_appears_in_the_ablation_table_and_its_statistics(plugin_metric,
                                                                          tmp_path):
    key = plugin_metric
    assert key in metrics_for('ablation') and key in metrics_for('statistics')
    store = tmp_path / 'store'
    _write_store(store, key)
    stored = json.loads((store / 'base_s0' / 'results' / 'Rain100L.json').read_text())
    assert stored['metrics'] == {key: {'higher_is_better': False, 'decimals': 3,
                                       'label': 'MAE probe', 'reference': 'full',
                                       'shown_in': ['ablation', 'statistics']}}
    assert 'psnr_y' not in stored['metrics']      # shipped rows are not repeated in files

    from analysis.__main__ import main as analysis

    METRIC_TABLE.pop(key)          # as in a process that never imported the plug-in
    analysis(['table', str(store), '--out-dir', str(tmp_path / 'tables')])
    assert METRIC_TABLE[key].label == 'MAE probe'    # learnt back from the results files
    ablation = (tmp_path / 'tables' / 'ablation.md').read_text()
    header = next(line for line in ablation.splitlines() if 'PSNR' in line)
    assert 'MAE probe' in header
    analysis(['stats', str(store), '--out', str(tmp_path / 'stats.csv')])
    with open(tmp_path / 'stats.csv') as f:
        compared = {row['metric']: row for row in csv.DictReader(f)}
    assert set(compared) == {'psnr_y', 'ssim_y', key}
    assert float(compared[key]['mean_diff']) > 0 and compared[key]['significant'] == 'True'


def test_a_described_row_is_learnt_from_the_results_file(plugin_metric, tmp_path):
    """Without the plug-in (a fresh process), reading a results file that describes the metric
    adds a display-only row: analysis shows it; scoring with it names the file."""
    key = plugin_metric
    _write_store(tmp_path, key)
    METRIC_TABLE.pop(key)
    path = tmp_path / 'base_s0' / 'results' / 'Rain100L.json'
    read_results(path)
    assert METRIC_TABLE[key].label == 'MAE probe' and not METRIC_TABLE[key].higher_is_better
    with pytest.raises(ValueError, match='known only from .*Rain100L.json; import the plug-in'):
        METRIC_TABLE[key].score(None, None, None, None)
