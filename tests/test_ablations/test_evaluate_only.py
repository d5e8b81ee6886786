"""Evaluate-only cells: a cell's ``checkpoint`` skips training; such runs resume like any run."""
import json

from ablations.__main__ import main
from ablations.grid import expand, load_grid
from ablations.rundir import DONE, RUN_JSON
from ablations.runner import execute_run, run_dir_of, select_runs, write_run_json


def test_listed_cells_with_a_checkpoint_are_only_evaluated(make_grid, tmp_path, capsys):
    given = tmp_path / 'released.json'
    given.write_text(json.dumps({'step': 9, 'value': 500}))
    extra = (f"mode = 'listed'\ninclude = [{{'model.variant': 'b', 'checkpoint': {str(given)!r}}},"
             f" {{'model.variant': 'c'}}]\n")
    grid = load_grid(str(make_grid(name='evalonly', axes='{}', extra=extra)))
    evaluated, trained = expand(grid)
    assert (evaluated.checkpoint, trained.checkpoint) == (str(given), None)
    assert 'checkpoint' not in evaluated.axes and evaluated.overrides['model.variant'] == 'b'

    run_dir = run_dir_of(tmp_path, evaluated)
    write_run_json(run_dir, evaluated)
    assert json.loads((run_dir / RUN_JSON).read_text())['checkpoint'] == str(given)
    assert execute_run(grid, evaluated, str(run_dir)) == 'done'
    assert list(json.loads((run_dir / DONE).read_text())['stages']) == ['test', 'macs']
    assert not (run_dir / 'train').exists()
    results = run_dir / 'results' / 'SetA.json'
    assert json.loads(results.read_text())['images'][0]['psnr_y'] == 500 % 97

    other = run_dir_of(tmp_path, trained)
    assert execute_run(grid, trained, str(other)) == 'done'
    assert list(json.loads((other / DONE).read_text())['stages']) == ['train', 'test', 'macs']

    results.unlink()   # a damaged evaluate-only run is picked up again and still not trained
    assert select_runs(grid, [evaluated, trained], tmp_path, False) == [evaluated]
    assert execute_run(grid, evaluated, str(run_dir)) == 'done'
    assert results.is_file() and not (run_dir / 'train').exists()
    capsys.readouterr()
    assert main(['plan', str(grid.path), '--work-root', str(tmp_path), '--json']) == 0
    plan = json.loads(capsys.readouterr().out)
    assert 'python tools/test.py' in plan[0]['command'] and str(given) in \
        plan[0]['command']
