"""A report shows exactly a grid's current runs (``GRID.json``, ``ablations prune``), the
scaffold's grid makes the ablation table and its statistics, and a report that cannot make them
says so on its first page.

The stores are the scaffold's own grid expanded by ``ablations.grid``; each run's results are
written through the results API (per-image scores: the base 0.4 dB above its variant).
"""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from ablations.__main__ import main as ablations
from ablations.grid import expand, load_grid
from ablations.rundir import DONE, GRID_INDEX
from ablations.runner import run_dir_of, write_run_json
from analysis import report
from danet.evaluation.results import build_results, write_results
from danet.scaffold import new_model
from danet.utils.fileio import atomic_write_json
from danet.utils.run_lock import RunLock

CONVENTIONS = dict(protocol='prenet_matlab', crop_border=0, quantize='truncate', peak=255,
                   y_channel='float_y', ssim='wang_ssim_m_downsample_gaussian11_sigma1.5_valid')


@pytest.fixture
def scaffold(tmp_path, monkeypatch, forget_package) -> Path:
    """The package ``mynet`` scaffolded outside the repository, importable (and forgotten after
    the test)."""
    new_model('mynet', tmp_path / 'pkg')
    monkeypatch.syspath_prepend(str(tmp_path / 'pkg'))
    forget_package('mynet')
    return tmp_path / 'pkg'


def fill(grid_file: Path, work_root: Path) -> Path:
    """Finished runs of every cell of the grid, as a grid run leaves them; the grid's folder."""
    grid = load_grid(str(grid_file))
    rng = np.random.default_rng(0)
    for spec in expand(grid):
        run_dir = run_dir_of(work_root, spec)
        write_run_json(run_dir, spec)
        shift = 0.0 if not spec.axes else -0.4
        for testset in grid.testsets:
            images = [{'name': f'{i}.png', 'psnr_y': 30 + shift + rng.normal(0, 0.05) + i / 10,
                       'ssim_y': 0.9 + shift / 100 + i / 1000} for i in range(8)]
            write_results(run_dir / 'results' / f'{testset}.json',
                          build_results(testset, 'mynet', images, CONVENTIONS, spec.config_hash,
                                        testset))
        atomic_write_json(run_dir / 'complexity.json', {'params': 1000, 'gmacs': 1.0,
                                                        'shape': [3, 256, 256]})
        (run_dir / 'train').mkdir()
        (run_dir / 'train' / 'last_checkpoint').write_text(str(run_dir / 'train' / 'e.pth'))
        atomic_write_json(run_dir / DONE, {'run_id': spec.run_id, 'stages': {}})
    return work_root / grid.name


def first_page(page: Path) -> str:
    """The page up to its first section heading."""
    return page.read_text().split('<h2>', 1)[0]


@pytest.mark.slow
def test_the_scaffold_grid_reports_the_ablation_and_a_base_less_grid_says_why_not(
        scaffold, tmp_path):
    grid_file = scaffold / 'grids' / 'mynet_components.py'
    page = report.build_report([fill(grid_file, tmp_path / 'w')], tmp_path / 'report')
    assert (tmp_path / 'report' / 'ablation.md').is_file()
    stats = (tmp_path / 'report' / 'stats.csv').read_text().splitlines()
    assert len(stats) == 1 + 2 * 2                # w/o attention vs base: 2 test sets × 2 metrics
    assert all(',base,w/o attention,' in row for row in stats[1:])
    assert 'No ablation table' not in page.read_text()

    factorial = tmp_path / 'factorial.py'        # the scaffold's grid before: no base run
    factorial.write_text(grid_file.read_text().replace("'one_at_a_time'", "'factorial'").replace(
        "[('w/o attention', 'MynetNoAttention')]",
        "[('w/o attention', 'MynetNoAttention'), ('attention', 'MynetAttention')]").replace(
        '../configs/', str(scaffold / 'configs') + '/'))
    page = report.build_report([fill(factorial, tmp_path / 'w')], tmp_path / 'report2')
    opening = first_page(page)
    assert 'No ablation table' in opening and 'no base run' in opening
    assert 'No statistics against a base' in opening
    summary = (tmp_path / 'report2' / 'summary.md').read_text().split('##', 1)[0]
    assert 'No ablation table' in summary


@pytest.mark.slow
def test_a_report_shows_the_grids_current_runs_and_prune_removes_the_others(
        scaffold, tmp_path, capsys):
    grid_file = scaffold / 'grids' / 'wide.py'
    grid_file.write_text((scaffold / 'grids' / 'mynet_components.py').read_text().replace(
        "axes = {'model.generator.attention.type': [('w/o attention', 'MynetNoAttention')]}",
        "axes = {'model.generator.attention.type': [('w/o attention', 'MynetNoAttention')],\n"
        "        'model.generator.channels': [('wide', 48)]}"))
    work = tmp_path / 'w'
    folder = fill(grid_file, work)
    stale = next(folder.glob('wide_s0_*'))
    grid_file.write_text(grid_file.read_text().replace(
        ",\n        'model.generator.channels': [('wide', 48)]", ''))   # the grid changes
    assert ablations(['status', str(grid_file), '--work-root', str(work)]) == 0
    assert len(json.loads((folder / GRID_INDEX).read_text())['run_ids']) == 2
    page = report.build_report([folder], tmp_path / 'report')
    assert '2 runs, 2 methods' in page.read_text() and 'wide' not in report_methods(tmp_path)
    assert f'Left out <code>{stale}</code>' in first_page(page)
    assert 'ablations prune' in first_page(page)

    capsys.readouterr()
    assert ablations(['prune', str(grid_file), '--work-root', str(work), '--dry-run']) == 0
    assert f'would remove {stale}' in capsys.readouterr().out and stale.is_dir()
    lock = RunLock(stale)
    assert lock.acquire()                         # a runner still works in it
    assert ablations(['prune', str(grid_file), '--work-root', str(work)]) == 1
    assert f'kept {stale}: in use by pid' in capsys.readouterr().out and stale.is_dir()
    lock.release()
    assert ablations(['prune', str(grid_file), '--work-root', str(work)]) == 0
    assert not stale.exists() and len([p for p in folder.iterdir() if p.is_dir()]) == 2


def report_methods(tmp_path: Path) -> str:
    return ' '.join(re.findall(r'^\| ([^|]+) \|', (tmp_path / 'report' / 'comparison.md')
                               .read_text(), re.M))
