"""The default test stage evaluates exactly the grid's test sets."""
from pathlib import Path

from ablations.spec import Grid, RunSpec
from ablations.stages import STAGES, stage_argv


def test_test_stage_passes_the_grid_testsets(tmp_path):
    grid = Grid(name='g', path=Path('g.py'), base='configs/x.py', axes={}, mode='full',
                seeds=[0], testsets=['Rain100L', 'Test100'])
    spec = RunSpec(grid='g', run_id='r', base='configs/x.py', seed=0, axes={},
                   overrides={'train_cfg.max_epochs': 2}, config_hash='h')
    (tmp_path / 'train').mkdir()
    (tmp_path / 'train' / 'last_checkpoint').write_text(str(tmp_path / 'train' / 'epoch_2.pth'))
    test_stage = STAGES['test']
    argv = stage_argv(test_stage, spec, grid, tmp_path, [])
    assert argv[argv.index('--testsets') + 1:argv.index('--cfg-options')] == ['Rain100L', 'Test100']
    assert argv[-1] == 'train_cfg.max_epochs=2'
