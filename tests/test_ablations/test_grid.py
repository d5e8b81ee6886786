"""Grid files: validation, expansion modes, include/exclude, labels, ids, plan output."""
import json

import pytest
from mmengine.config import DictAction

from ablations.__main__ import main
from ablations.grid import cells, expand, load_grid
from ablations.runner import write_run_json
from ablations.spec import (
    FORMER_CONFIG_PATHS,
    REPO_ROOT,
    AxisValue,
    GridError,
    format_cfg_value,
)
from ablations.stages import STAGES, grid_stages, stage_argv, stage_outputs

TWO_AXES = "{'model.variant': ['b', ('variant C', 'c')], 'iters': [4, 5]}"


def test_one_at_a_time_is_base_plus_each_value_alone(make_grid):
    grid = load_grid(str(make_grid(axes=TWO_AXES)))
    found = [{k: a.label for k, a in c.items()} for c in cells(grid)]
    assert found == [{}, {'model.variant': 'b'}, {'model.variant': 'variant C'},
                     {'iters': '4'}, {'iters': '5'}]


def test_factorial_with_exclude_and_include(make_grid):
    extra = ("mode = 'factorial'\n"
             "exclude = [{'model.variant': 'variant C', 'iters': 5}]\n"
             "include = [{'model.variant': ('variant D', 'd')}]\n")
    grid = load_grid(str(make_grid(axes=TWO_AXES, extra=extra)))
    found = [{k: a.value for k, a in c.items()} for c in cells(grid)]
    assert found == [{'model.variant': 'b', 'iters': 4}, {'model.variant': 'b', 'iters': 5},
                     {'model.variant': 'c', 'iters': 4}, {'model.variant': 'd'}]


def test_ids_are_readable_deterministic_and_unique(make_grid):
    path = str(make_grid(axes=TWO_AXES, extra='seeds = [0, 1]\n'))
    first, second = expand(load_grid(path)), expand(load_grid(path))
    assert [r.run_id for r in first] == [r.run_id for r in second]
    assert len({r.run_id for r in first}) == len(first) == 10
    assert [r.run_id.split('_')[0] for r in first[:4]] == ['base', 'base', 'b', 'b']
    assert first[4].axes['model.variant'].label == 'variant C'
    assert first[4].overrides == {'model.variant': 'c', 'randomness.seed': 0}
    assert first[0].config_hash != first[1].config_hash


def test_grid_errors_name_file_and_key(make_grid):
    bad_mode = make_grid(name='bad_mode', extra="mode = 'random'\n")
    with pytest.raises(GridError, match=r'bad_mode.py: mode=.random.'):
        load_grid(str(bad_mode))
    typo = make_grid(name='typo', extra="seed = [1]\n")
    with pytest.raises(GridError, match=r"typo.py: unknown key\(s\) \['seed'\]"):
        load_grid(str(typo))
    bad_stage = make_grid(name='bad_stage', extra="stages = ['tset']\n")
    with pytest.raises(GridError, match=r"bad_stage.py: stages: unknown stage 'tset'; "
                                        r"known stages: train, test, test_images, macs"):
        load_grid(str(bad_stage))
    unknown_cfg = make_grid(name='unknown_cfg', axes="{'model.varient': ['b']}")
    with pytest.raises(GridError, match='model.varient.*model.variant'):
        expand(load_grid(str(unknown_cfg)))


@pytest.mark.parametrize('value', ['PlainALM', 3, 0.5, True, None, [1, 2], (3, 4), [96, 96]])
def test_cfg_values_round_trip_through_cfg_options(value):
    action = DictAction(option_strings=['--cfg-options'], dest='opts')

    class Namespace:
        pass
    ns = Namespace()
    action(None, ns, [f'k={format_cfg_value(value)}'])
    assert ns.opts['k'] == value


def test_plan_json_lists_every_run(make_grid, tmp_path, capsys):
    path = str(make_grid())
    assert main(['plan', path, '--json', '--work-root', str(tmp_path / 'w')]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r['seed'] for r in runs] == [0, 0, 0]
    assert runs[1]['overrides'] == {'model.variant': 'b', 'randomness.seed': 0}
    assert runs[1]['axes'] == {'model.variant': {'label': 'variant B', 'value': 'b'}}
    assert "'model.variant=b'" in runs[1]['command']


def test_run_ids_survive_the_config_rename():
    """The ids of runs made before configs got OpenMMLab names (work_dirs hold them finished)."""
    assert [r.run_id for r in expand(load_grid('prenet_readme_rain100l'))] == \
        ['prn_s0_4618667d', 'prenet_s0_ba62094c', 'prn-r_s0_cb4b7c90', 'prenet-r_s0_9ee10c5f']
    assert all((REPO_ROOT / new).is_file() for new in FORMER_CONFIG_PATHS)


def test_shipped_grids_name_their_stages():
    names = {g: [s['name'] for s in grid_stages(load_grid(g))]
             for g in ('danet_components', 'demo_tiny', 'prenet_ablation',
                       'prenet_readme_rain100h')}
    assert names == {'danet_components': ['train', 'test', 'macs'],
                     'demo_tiny': ['train', 'test_images'],
                     'prenet_ablation': ['test'], 'prenet_readme_rain100h': ['test']}
    assert '--save-images' in STAGES['test_images']['argv']
    assert STAGES['macs']['argv'][1:4] == ['-m', 'danet', 'count-macs']


def test_shipped_grids_expand():
    components = expand(load_grid('danet_components'))
    assert len(components) == 8 * 3
    assert {r.seed for r in components} == {0, 1, 2}
    assert len(expand(load_grid('demo_tiny'))) >= 4


def test_runs_record_the_base_choice_per_axis(make_grid):
    extra = ("base_labels = {'model.variant': 'variant A'}\n"
             "axis_names = {'model.variant': 'Variant'}\n")
    spec = expand(load_grid(str(make_grid(extra=extra))))[0]
    assert spec.axes == {}   # the base run
    assert spec.base_axes == {'model.variant': AxisValue('variant A', 'a'),   # named label
                              'fail': AxisValue('False', False)}              # default: the value
    record = spec.to_json()
    assert record['base_axes']['fail'] == {'label': 'False', 'value': False}
    assert record['axis_names'] == {'model.variant': 'Variant'}
    with pytest.raises(GridError, match=r"base_labels names key\(s\) that are not axes"):
        load_grid(str(make_grid(name='typo', extra="base_labels = {'model.varient': 'A'}\n")))


def test_older_run_json_gains_new_fields_and_keeps_its_own(make_grid, tmp_path):
    spec = expand(load_grid(str(make_grid())))[1]
    old = {k: v for k, v in spec.to_json().items() if k not in ('base_axes', 'axis_names')}
    (tmp_path / 'run.json').write_text(json.dumps({**old, 'config_hash': 'recorded'}))
    write_run_json(tmp_path, spec)
    record = json.loads((tmp_path / 'run.json').read_text())
    assert record['config_hash'] == 'recorded'
    assert record['base_axes']['model.variant'] == {'label': 'a', 'value': 'a'}


def test_plan_and_run_refuse_an_unregistered_type_and_run_refuses_missing_data(tmp_path, capsys):
    grid = tmp_path / 'typo.py'
    grid.write_text(
        "base = 'configs/danet/danet_smoke-cpu_1xb4-100e_train40.py'\n"
        "mode = 'one_at_a_time'\nseeds = [0]\n"
        "testsets = ['Rain100L']\n"
        "axes = {'model.generator.reconstruction.type': [('bilinear', 'BilinearRecon')]}\n"
        "cfg_options = {'train_dataloader.dataset.ann_file': '/no/train.h5'}\n")
    work = tmp_path / 'work'
    for command in ('plan', 'run'):
        assert main([command, str(grid), '--work-root', str(work)]) == 2
        err = capsys.readouterr().err
        assert "1 run(s) name unregistered types" in err and 'bilinear_s0_' in err
        assert "model.generator.reconstruction.type = 'BilinearRecon' (closest: " \
               "BilinearReconstruction" in err
    grid.write_text(grid.read_text().replace("'BilinearRecon'", "'BilinearReconstruction'"))
    assert main(['plan', str(grid), '--work-root', str(work)]) == 0
    assert 'warning: runs lack data' in capsys.readouterr().err
    assert main(['run', str(grid), '--work-root', str(work)]) == 2
    err = capsys.readouterr().err
    assert '2 run(s) (base_s0_' in err and 'train_dataloader.dataset.ann_file = /no/train.h5' in err
    assert not work.exists()


def test_plan_json_command_carries_the_cpu_budget_of_each_run(make_grid, tmp_path, capsys,
                                                              monkeypatch):
    monkeypatch.delenv('DANET_CPUS', raising=False)
    monkeypatch.setattr('os.sched_getaffinity', lambda pid: {0, 1, 2, 3})
    path = str(make_grid())
    main(['plan', path, '--json', '--max-parallel', '2', '--work-root', str(tmp_path)])
    assert json.loads(capsys.readouterr().out)[0]['command'].startswith('DANET_CPUS=2 python')
    main(['plan', path, '--json', '--executor', 'slurm', '--cpus', '8',
          '--work-root', str(tmp_path)])
    assert json.loads(capsys.readouterr().out)[0]['command'].startswith('DANET_CPUS=8 python')


def test_a_broken_grid_file_is_one_line_naming_file_and_line(make_grid, capsys):
    broken = make_grid(name='broken', extra="seeds = [0, 1\n")
    assert main(['plan', str(broken)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and 'Traceback' not in err
    assert f'{broken}, line 18: syntax error' in err
    failing = make_grid(name='failing', extra="seeds = [undefined_name]\n")
    with pytest.raises(GridError, match=r"failing.py, line \d+: NameError: name 'undefined_name'"):
        load_grid(str(failing))


def test_misspelt_keys_are_refused_with_the_close_match(make_grid):
    top = make_grid(name='top', extra="exlcude = [{'iters': 5}]\n", axes=TWO_AXES)
    with pytest.raises(GridError, match=r"unknown key\(s\) \['exlcude'\].*did you mean 'exclude'"):
        load_grid(str(top))
    key = make_grid(name='key', extra="exclude = [{'model.varaint': 'b'}]\n", axes=TWO_AXES)
    with pytest.raises(GridError, match=r"key.py: exclude\[0\]: 'model.varaint' is not an axis "
                                        r"\(did you mean 'model.variant'\?\)"):
        load_grid(str(key))
    value = make_grid(name='value', extra="exclude = [{'model.variant': 'variant c'}]\n",
                      axes=TWO_AXES)
    with pytest.raises(GridError, match=r"value.py: exclude\[0\]: 'variant c' is no label or "
                                        r"value of 'model.variant'.*did you mean 'variant C'"):
        load_grid(str(value))


def test_two_labels_for_one_value_are_refused(make_grid):
    twice = make_grid(name='twice', axes="{'iters': [('short', 4), ('quick', 4), 5]}")
    with pytest.raises(GridError, match=r"twice.py: axes\['iters'\]: labels 'short' and 'quick' "
                                        r"give the same value 4"):
        load_grid(str(twice))
    again = make_grid(name='again', axes=TWO_AXES, extra="include = [{'iters': ('again', 4)}]\n")
    with pytest.raises(GridError, match=r"again.py: runs 4_s0_\w+ and again_s0_\w+ resolve to "
                                        r"the same config"):
        expand(load_grid(str(again)))


@pytest.mark.slow
def test_grid_testsets_take_name_path_as_tools_test_does(tmp_path, capsys):
    (tmp_path / 'sets' / 'mine' / 'rainy').mkdir(parents=True)
    grid = tmp_path / 'subset.py'
    grid.write_text("base = 'configs/danet/danet_smoke-cpu_1xb4-100e_train40.py'\n"
                    "mode = 'one_at_a_time'\nseeds = [0]\naxes = {'model.generator.n_feat': [8]}\n"
                    "testsets = ['Rain100L', 'Mine=sets/mine']\n")
    assert main(['plan', str(grid), '--work-root', str(tmp_path / 'w')]) == 0
    assert 'unknown test set' not in capsys.readouterr().err
    loaded = load_grid(str(grid))
    spec = expand(loaded)[0]
    mine = str((tmp_path / 'sets' / 'mine').resolve())
    (tmp_path / 'run' / 'train').mkdir(parents=True)
    (tmp_path / 'run' / 'train' / 'last_checkpoint').write_text('ckpt.pth')
    argv = stage_argv(STAGES['test'], spec, loaded, tmp_path / 'run', [])
    assert argv[argv.index('--testsets') + 1:][:2] == ['Rain100L', f'Mine={mine}']
    assert stage_outputs(STAGES['test'], loaded.testsets) == ['results/Rain100L.json',
                                                              'results/Mine.json']
    for entries, needle in ((["'../x=sets/mine'"], "test set name '../x'"),
                            (["'Mine=sets/mine'", "'Mine'"], "'Mine' is given twice"),
                            (["'Mine='"], 'empty PATH')):
        grid.write_text(grid.read_text().rsplit('testsets', 1)[0]
                        + f'testsets = [{", ".join(entries)}]\n')
        assert main(['plan', str(grid)]) == 2
        assert needle in capsys.readouterr().err
    grid.write_text(grid.read_text().rsplit('testsets', 1)[0] + "testsets = ['Gone=/no/set']\n")
    assert main(['run', str(grid), '--work-root', str(tmp_path / 'w')]) == 2
    assert 'testsets Gone=/no/set: no such file or folder' in capsys.readouterr().err
