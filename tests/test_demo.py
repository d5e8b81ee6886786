"""The README demo end to end at toy size (``tools/demo.py --quick``: a grid per task), then
resumed."""
import json
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def _demo(work_dir) -> str:
    proc = subprocess.run([sys.executable, 'tools/demo.py', '--quick', '--work-dir', str(work_dir)],
                          cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _table_rows(markdown: str) -> dict[str, dict[str, str]]:
    """``{method: {column: cell without emphasis}}`` of the first Markdown table."""
    lines = [line for line in markdown.splitlines() if line.startswith('|')]
    header = [c.strip() for c in lines[0].strip('|').split('|')]
    rows = {}
    for line in lines[2:]:
        cells = [re.sub(r'\*\*|</?u>', '', c).strip() for c in line.strip('|').split('|')]
        rows[cells[0]] = dict(zip(header, cells, strict=True))
    return rows


def test_quick_demo_writes_report_and_resumes(tmp_path):
    out = _demo(tmp_path)
    report = tmp_path / 'report'
    for name in ('index.html', 'summary.md', 'ablation.md', 'ablation.tex', 'ablation.csv',
                 'comparison.md', 'plots/psnr_vs_gmacs.png', 'plots/ablation_bars.png',
                 'plots/training_curves.png', 'plots/per_image_psnr.png', 'stats.csv',
                 'plots/forest_psnr.png', 'plots/paired_diffs_psnr.png',
                 'figures/comparison_SynthTest.png'):
        assert (report / name).stat().st_size > 0, name
    assert f'report: {report / "index.html"}' in out

    # The test photographs never enter the training file's folder.
    clean = tmp_path / 'data' / 'clean'
    test_names = {p.stem for p in (clean / 'test').iterdir()}
    assert test_names == {'astronaut', 'motorcycle_left', 'motorcycle_right'}
    assert not test_names & {p.stem for p in (clean / 'trainval').iterdir()}

    # One grid per task; each run's PSNR is in its task's test-set column of the ablation table,
    # and each task's degraded input is a reference row in its own column only.
    table = (report / 'ablation.md').read_text()
    assert table.strip() in out
    rows = _table_rows(table)
    testsets = {'demo_tiny': 'SynthTest', 'demo_dehaze': 'SynthHaze',
                'demo_lowlight': 'SynthLowLight'}
    runs = {grid: [p.parent for p in (tmp_path / 'ablations' / grid).glob('*/DONE.json')]
            for grid in testsets}
    assert {grid: len(r) for grid, r in runs.items()} == {'demo_tiny': 2, 'demo_dehaze': 1,
                                                          'demo_lowlight': 1}
    assert set(rows) == {'base', 'w/o ALM'}
    for grid, testset in testsets.items():
        for run in runs[grid]:
            axes = json.loads((run / 'run.json').read_text())['axes']   # one axis at a time
            method = next(iter(axes.values()))['label'] if axes else 'base'
            psnr = json.loads((run / 'results' / f'{testset}.json').read_text()
                              )['summary']['psnr_y']
            assert float(rows[method][f'{testset} PSNR']) == round(psnr, 2)
            assert (run / 'complexity.json').is_file()
    assert rows['w/o ALM']['SynthHaze PSNR'] == '–'   # that variant ran for deraining only
    comparison = _table_rows((report / 'comparison.md').read_text())
    for name, testset in (('Rainy input', 'SynthTest'), ('Hazy input', 'SynthHaze'),
                          ('Low-light input', 'SynthLowLight')):
        filled = [c for c in testsets.values() if comparison[name][f'{c} PSNR'] != '–']
        assert filled == [testset], name

    # A second run finds everything done and only prints the table again.
    again = _demo(tmp_path)
    assert again.count('already done') == 6
    assert again.count('0 of 2 runs to do') == 1 and again.count('0 of 1 runs to do') == 2
    assert table.strip() in again
