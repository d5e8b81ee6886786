"""The README demo end to end at toy size (``tools/demo.py --quick``), then resumed."""
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

    # One table row per grid run, its PSNR the run's stored result; the table is printed.
    table = (report / 'ablation.md').read_text()
    assert table.strip() in out
    rows = _table_rows(table)
    runs = [p.parent for p in (tmp_path / 'ablations' / 'demo_tiny').glob('*/DONE.json')]
    assert len(runs) == 2 and len(rows) == 2
    for run in runs:
        axes = json.loads((run / 'run.json').read_text())['axes']   # one axis at a time
        method = next(iter(axes.values()))['label'] if axes else 'base'
        psnr = json.loads((run / 'results' / 'SynthTest.json').read_text())['summary']['psnr_y']
        assert float(rows[method]['SynthTest PSNR']) == round(psnr, 2)
        assert (run / 'complexity.json').is_file()

    # A second run finds everything done and only prints the table again.
    again = _demo(tmp_path)
    assert again.count('already done') == 6
    assert '0 of 2 runs to do' in again and table.strip() in again
