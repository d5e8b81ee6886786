"""The zoo's complexity table: attention matrix products counted (checked by hand against the
architecture), every registered generator listed, the tool writing Markdown, CSV and LaTeX."""
import json

import pytest

from danet.benchmarks.zoo import zoo_models
from danet.models import generators
from danet.utils.complexity import complexity_report

SMALL = dict(dim=4, num_blocks=[1, 1, 1, 1], heads=[1, 2, 2, 4], ffn_expansion_factor=2.66)


def attention_macs_by_hand(height, width, blocks, products):
    """Q·Kᵀ and A·V of MDTA per block: (C/heads)² per head and pixel, each; TKSA does its A·V
    once per kept fraction. ``blocks``: (channels, heads, downscale, count) per stage."""
    total = 0
    for channels, heads, scale, count in blocks:
        pixels = (height // scale) * (width // scale)
        total += count * products * heads * (channels // heads) ** 2 * pixels
    return total


# encoder 1-3, latent, decoder 3-2, decoder 1 and refinement at 2×dim with heads[0]
STAGES = [(4, 1, 1, 1), (8, 2, 2, 1), (16, 2, 4, 1), (32, 4, 8, 1), (16, 2, 4, 1), (8, 2, 2, 1),
          (8, 1, 1, 1)]


@pytest.mark.parametrize('cfg, stages, products', [
    (dict(type='Restormer', **SMALL, num_refinement_blocks=1), STAGES + [(8, 1, 1, 1)], 2),
    (dict(type='DRSformer', **SMALL), STAGES, 1 + 4)])
def test_attention_matrix_products_are_counted(cfg, stages, products):
    report = complexity_report(cfg, shape=(3, 16, 24))
    assert report['counted_ops']['aten::matmul']['macs'] == \
        attention_macs_by_hand(16, 24, stages, products)


def test_every_registered_generator_is_a_row_and_configs_follow(tmp_path):
    config = tmp_path / 'small_restormer.py'
    config.write_text(f'model = dict(generator=dict(type="Restormer", **{SMALL!r}))\n')
    models = zoo_models([str(config)])
    assert models[:-1] == list(generators()) and models[-1] == str(config)
    assert {'restormer', 'drsformer', 'danet', 'mprnet'} <= set(models)


def test_tool_writes_the_table_in_three_formats(tmp_path):
    from analysis.__main__ import main as analysis_main
    from tools.zoo_complexity import main
    config = tmp_path / 'small_restormer.py'
    config.write_text(f'model = dict(generator=dict(type="Restormer", **{SMALL!r}))\n')
    out = tmp_path / 'table'
    assert main([str(out), '--size', '16', '24', '--models', 'prn_r', str(config),
                 '--repeats', '1', '--warmup', '0']) == 0
    report = json.loads((out / 'zoo_complexity.json').read_text())
    rows = {r['label']: r for r in report['rows']}
    assert set(rows) == {'prn_r', 'small_restormer'}
    assert rows['prn_r']['params'] == 21_123 and rows['prn_r']['matmul_gmacs'] == 0
    assert rows['small_restormer']['matmul_gmacs'] > 0 and report['shape'] == [16, 24]
    assert all(r['latency_ms'] > 0 for r in rows.values())
    analysis_main(['complexity', str(out / 'zoo_complexity.json')])
    markdown = (out / 'zoo_complexity.md').read_text()
    assert '| small_restormer |' in markdown and 'GMACs (16×24)' in markdown
    assert 'small_restormer' in (out / 'zoo_complexity.csv').read_text()
    assert r'\begin{tabular}' in (out / 'zoo_complexity.tex').read_text()
