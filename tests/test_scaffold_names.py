"""``python -m danet new-model NAME``: a NAME that would shadow a module or clash with a
registered model is refused in one line, and nothing is written."""
import pytest

from danet.__main__ import main as danet_main
from danet.utils.cli import run_main


def new_model(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stop:
        run_main(lambda: danet_main(['new-model', *argv]))
    return stop.value.code, capsys.readouterr().err.strip()


@pytest.mark.parametrize('name, shown', [
    ('torch', 'torch/__init__.py'), ('numpy', 'numpy/__init__.py'),
    ('danet', 'danet/__init__.py'), ('mmengine', 'mmengine/__init__.py'),
    ('json', 'standard library'), ('analysis', 'analysis/__init__.py'),
    ('d_a_net', 'clashes with the registered DANet'),
    ('mprnet', 'clashes with the registered MPRNet'),     # generators() maps lower-case names
    ('pre_net', 'clashes with the registered PReNet'),
])
def test_a_name_that_shadows_a_module_or_clashes_with_a_model_is_refused(name, shown, tmp_path,
                                                                        capsys):
    code, err = new_model([name, '--out', str(tmp_path / 'pkg')], capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith(f"error: new-model NAME '{name}'") and shown in err
    assert not (tmp_path / 'pkg').exists()


def test_a_file_where_a_folder_must_go_is_named_before_anything_is_written(tmp_path, capsys):
    (tmp_path / 'pkg').mkdir()
    (tmp_path / 'pkg' / 'configs').write_text('a file')
    code, err = new_model(['freshnet', '--out', str(tmp_path / 'pkg')], capsys)
    assert code == 2 and str(tmp_path / 'pkg' / 'configs') in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / 'pkg').iterdir()) == ['configs']


def test_a_fresh_name_is_written(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        run_main(lambda: danet_main(['new-model', 'freshnet', '--out', str(tmp_path)]))
    assert stop.value.code == 0
    assert (tmp_path / 'freshnet' / 'model.py').is_file()
