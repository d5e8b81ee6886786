"""The Restormer/DRSformer grids: each component cell swaps what it names and builds (narrowed),
the evaluate-only release grids point at the converted weights."""
import pytest
from mmengine.config import Config

from ablations.grid import expand, load_grid
from danet.registry import MODELS
from danet.utils.complexity import count_parameters

NARROW = dict(dim=8, num_blocks=[1, 1, 1, 1])


@pytest.mark.parametrize('grid, cells', [('restormer_components', 4),
                                         ('drsformer_components', 6)])
def test_component_cells_change_the_generator(grid, cells, repo_root):
    runs = expand(load_grid(grid))
    assert len(runs) == cells
    counts = []
    for run in runs:
        cfg = Config.fromfile(str(repo_root / run.base))
        cfg.merge_from_dict(run.overrides)
        counts.append(count_parameters(MODELS.build(dict(cfg.model.generator, **NARROW))))
    assert len(set(counts)) == cells   # every cell is a different network


@pytest.mark.parametrize('grid, weights', [
    ('restormer_release_rain13k', 'work_dirs/restormer_release/deraining.pth'),
    ('drsformer_release_rain200', 'work_dirs/drsformer_release/Rain200H.pth'),
    ('drsformer_release_rain200l', 'work_dirs/drsformer_release/Rain200L.pth')])
def test_release_grids_evaluate_the_converted_weights_only(grid, weights):
    (run,) = expand(load_grid(grid))
    assert run.checkpoint == weights
    assert [s['name'] for s in load_grid(grid).stages] == ['test']
