"""``python -m analysis complexity-plot``: the runs of the shared store placed at the MACs of a
complexity table that ``tools/zoo_complexity.py`` really wrote; runs of a model the table lacks
are left out and named."""
import json

import pytest

from analysis import store
from analysis.__main__ import main
from tests.conftest import REPO_ROOT

SMOKE = REPO_ROOT / 'configs/danet/danet_smoke-cpu_1xb4-100e_train40.py'


@pytest.fixture(scope='module')
def zoo_json(tmp_path_factory):
    """The complexity table of the store's base model (DANet smoke) and PRN_r, at 16×16."""
    from tools.zoo_complexity import main as zoo_main
    out = tmp_path_factory.mktemp('zoo')
    assert zoo_main([str(out), '--size', '16', '16', '--models', 'prn_r', str(SMOKE),
                     '--repeats', '1', '--warmup', '0']) == 0
    return out / 'zoo_complexity.json'


def test_runs_sit_at_the_tables_macs_and_the_rest_are_named(store_root, zoo_json, tmp_path,
                                                            capsys):
    zoo = json.loads(zoo_json.read_text())
    smoke = next(r for r in zoo['rows'] if r['label'] == SMOKE.stem)
    runs = store.discover_runs([store_root])
    alm_off = [r for r in runs if r.complexity.get('params') not in (None, smoke['params'])]
    assert alm_off   # the store's ALM-off variant has other parameters: no row of the table

    main(['complexity-plot', str(zoo_json), str(store_root), '--out', str(tmp_path / 'fig')])
    out = capsys.readouterr().out
    assert (tmp_path / 'fig.png').stat().st_size > 0 and (tmp_path / 'fig.pdf').is_file()
    for run in alm_off:
        assert f'leaving out {run.path}: DANet with' in out
    assert 'rainy_input: no complexity.json' in out

    from analysis.complexity_plot import placed_runs, read_zoo
    placed, left_out = placed_runs(read_zoo(zoo_json), runs)
    assert {row['label'] for _, row in placed} == {SMOKE.stem}
    assert len(placed) + len(left_out) == len(runs) and len(left_out) == len(alm_off) + 1


def test_a_file_that_is_no_complexity_table_is_one_line(store_root, tmp_path, capsys):
    bad = tmp_path / 'results.json'
    bad.write_text(json.dumps({'rows': [{'label': 'x'}]}))
    with pytest.raises(SystemExit) as done:
        main(['complexity-plot', str(bad), str(store_root), '--out', str(tmp_path / 'fig')])
    err = capsys.readouterr().err.strip()
    assert done.value.code == 2 and err.startswith(f'error: {bad}: not a zoo complexity table')
    assert not (tmp_path / 'fig.png').exists()
