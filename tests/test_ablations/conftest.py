"""A fake grid whose stages are fake_stage.py: the runner's behaviour without real training."""
import textwrap
from pathlib import Path

import pytest

FAKE_STAGE = str(Path(__file__).with_name('fake_stage.py'))
FAKE_BASE = """\
randomness = dict(seed=0)
model = dict(variant='a')
fail = False
iters = 3
sleep = 0.0
"""


def write_grid(tmp_path: Path, name: str = 'fake', axes: str | None = None,
               extra: str = '') -> Path:
    """A grid file over a tiny base config, with fake train/test/macs stages."""
    base = tmp_path / 'base.py'
    base.write_text(FAKE_BASE)
    axes = axes or "{'model.variant': [('variant B', 'b')], 'fail': [('broken', True)]}"
    grid = tmp_path / f'{name}.py'
    grid.write_text(textwrap.dedent(f"""\
        base = {str(base)!r}
        axes = {axes}
        mode = 'one_at_a_time'
        seeds = [0]
        testsets = ['SetA']
        stages = [
            dict(name='train', argv=['{{python}}', {FAKE_STAGE!r}, 'train', '{{run_dir}}',
                                     '{{resume}}', '--cfg-options', '{{cfg_options}}'],
                 outputs=['train/last_checkpoint'],
                 resume=dict(when='train/last_checkpoint', argv=['--resume'],
                             fresh_clears='train')),
            dict(name='test', argv=['{{python}}', {FAKE_STAGE!r}, 'test', '{{run_dir}}',
                                    '{{checkpoint}}', 'SetA'],
                 outputs=['results/{{testset}}.json']),
            dict(name='macs', argv=['{{python}}', {FAKE_STAGE!r}, 'macs', '{{run_dir}}'],
                 outputs=['complexity.json'], formerly=('flops',)),
        ]
        """) + extra)
    return grid


@pytest.fixture
def make_grid(tmp_path):
    """``make_grid(name='fake', axes=None, extra='')`` writes a fake grid under ``tmp_path``."""
    return lambda **kwargs: write_grid(tmp_path, **kwargs)
