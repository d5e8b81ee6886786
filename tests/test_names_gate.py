"""The name gate at every entry point that turns a user-given name into a path
(docs/reliability.md, "One gate for names"): a name that would leave its folder, hide, carry a
control character, or repeat another is refused with exit 2 and one ``error:`` line naming the
option, before anything is written anywhere.

Each entry point runs in this process (``run_main``, as its script does), from a working folder
two levels down, so that ``../x`` would land inside ``tmp_path`` where the test looks.
"""
import pytest

from ablations.__main__ import main as ablations_main
from analysis.__main__ import main as analysis_main
from danet.__main__ import main as danet_main
from danet.utils.cli import run_main
from tools import derain as derain_tool
from tools import eval_folder as eval_tool
from tools import test as test_tool

SMOKE = 'configs/danet/danet_smoke-cpu_1xb4-100e_train40.py'
BAD = ['../x', 'a/b', '.hidden', 'a\x01b', '..']

# (entry point, option named in the error, argv with {name} where the name goes, how it takes
# several names: nargs ('--testsets A B'), append ('--gt A=D --gt B=D') or not at all)
ENTRY_POINTS = [
    ('test.py', '--testsets', [test_tool.main, '{config}', 'w.pth', '--work-dir', 'run',
                               '--testsets', '{name}=data'], 'nargs'),
    ('test.py', '--testsets', [test_tool.main, '{config}', 'w.pth', '--work-dir', 'run',
                               '--testsets', '{name}'], 'nargs'),
    ('eval_folder', '--testset', [eval_tool.main, 'pred', 'gt', '--testset', '{name}',
                                  '--method', 'm', '--out-dir', 'out'], False),
    ('eval_folder', '--method', [eval_tool.main, 'pred', 'gt', '--testset', 't',
                                 '--method', '{name}', '--out-dir', 'out'], False),
    ('derain', '--suffix', [derain_tool.main, '{config}', 'w.pth', 'data', 'out', '--suffix',
                            '{name}'], False),
    ('new-model', 'new-model NAME', [danet_main, 'new-model', '{name}', '--out', 'pkg'], False),
    ('analysis figure', '--method', [analysis_main, 'figure', '--gt', 'data', '--method',
                                     '{name}=data', '--out', 'fig'], 'append'),
    ('analysis report', '--testset', [analysis_main, 'report', 'runs', '--out', 'report',
                                      '--testset', '{name}'], False),
    ('analysis rank', '--gt', [analysis_main, 'rank', 'rank_manifest.json', '--gt',
                               '{name}=data', '--out', 'rank'], 'append'),
    ('ablations rank', '--testsets', [ablations_main, 'rank', '{config}', 'w.pth',
                                      '--testsets', '{name}', '--protocol', 'basicsr',
                                      '--out', 'rank'], 'nargs'),
    ('ablations rank', '--gt', [ablations_main, 'rank', '{config}', 'w.pth', '--testsets', 't',
                                '--protocol', 'basicsr', '--gt', '{name}=data',
                                '--out', 'rank'], 'append'),
]
CASES = [pytest.param(entry, name, id=f'{entry[0]} {entry[1]} {name!r}')
         for entry in ENTRY_POINTS for name in BAD]
CASES += [pytest.param(entry, None, id=f'{entry[0]} {entry[1]} twice')
          for entry in ENTRY_POINTS if entry[3]]


def snapshot(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob('*'))


def call(main, argv) -> int:
    try:
        run_main(lambda: main(argv))
    except SystemExit as stop:
        return stop.code
    raise AssertionError('run_main returned without exiting')


@pytest.mark.parametrize('entry, name', CASES)
def test_every_entry_point_refuses_a_bad_name_before_writing(entry, name, repo_root, tmp_path,
                                                             monkeypatch, capsys):
    _, option, (main, *template), several = entry
    work = tmp_path / 'a' / 'b'
    (work / 'data').mkdir(parents=True)
    monkeypatch.chdir(work)
    argv = [arg.format(config=repo_root / SMOKE, name=name if name is not None else 'Same')
            for arg in template]
    if name is None:   # a good name given twice
        at = next(i for i, arg in enumerate(template) if '{name}' in arg)
        argv[at:at + 1] = ([argv[at], argv[at - 1], argv[at]] if several == 'append'
                           else [argv[at]] * 2)
    before = snapshot(tmp_path)
    assert call(main, argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f'error: {option}'), lines
    assert ('given twice' if name is None else repr(name)) in lines[0]
    assert snapshot(tmp_path) == before


def test_an_empty_testset_path_is_refused_not_read_as_the_current_folder(
        repo_root, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert call(test_tool.main, [str(repo_root / SMOKE), 'w.pth', '--work-dir', 'run',
                                 '--testsets', 'Mine=']) == 2
    assert capsys.readouterr().err.strip() == (
        'error: --testsets Mine=: empty PATH; give NAME=PATH with a packed .h5 or a folder of '
        'pairs')
    assert not list(tmp_path.iterdir())


def test_a_new_set_named_like_a_config_set_is_refused(repo_root, tmp_path, monkeypatch, capsys):
    """Both would write results/Rain100L.json: the second would replace the first."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'data').mkdir()
    assert call(test_tool.main, [str(repo_root / SMOKE), 'w.pth', '--work-dir', 'run',
                                 '--testsets', 'Rain100L', 'rain100l=data']) == 2
    assert "error: --testsets 'rain100l' is given twice (as 'Rain100L')" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['data']
