"""``python -m danet COMMAND`` is each tool's command with the same flags (one parser definition,
in ``danet/commands``), the tools are thin shims, and a non-editable install runs the commands
from a folder outside the clone."""
import ast
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from danet.__main__ import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[1]
TOOLS = {'train': 'train', 'test': 'test', 'derain': 'derain', 'convert': 'convert_checkpoint',
         'count-macs': 'count_macs', 'eval-folder': 'eval_folder',
         'benchmark-inference': 'benchmark_inference'}
MAX_TOOL_LINES = 80


def _code_lines(path: Path) -> int:
    """Lines of code: not blank, not a comment, not inside a docstring."""
    tree = ast.parse(path.read_text())
    docs = set()
    for node in ast.walk(tree):
        body = getattr(node, 'body', None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docs.update(range(body[0].lineno, body[0].end_lineno + 1))
    return sum(1 for number, line in enumerate(path.read_text().splitlines(), 1)
               if line.strip() and not line.strip().startswith('#') and number not in docs)


def test_every_tool_is_thin(tmp_path):
    sample = tmp_path / 'sample.py'
    sample.write_text('"""Doc\nstring."""\nimport os\n\n# note\n\n\ndef f():\n'
                      '    """Doc."""\n    return os.sep\n')
    assert _code_lines(sample) == 3
    counts = {p.name: _code_lines(p) for p in sorted((ROOT / 'tools').glob('*.py'))}
    fat = {name: n for name, n in counts.items() if n > MAX_TOOL_LINES}
    assert not fat, f'tools over {MAX_TOOL_LINES} lines of code (move logic to the library): {fat}'


def _flags(parser) -> list[tuple]:
    return [(a.dest, tuple(a.option_strings), a.nargs, a.default, a.required, a.choices,
             type(a).__name__) for a in parser._actions]


@pytest.mark.parametrize('command', sorted(TOOLS))
def test_python_m_danet_command_is_the_tool_with_the_same_flags(command):
    tool = importlib.import_module(f'tools.{TOOLS[command]}')
    module = COMMANDS[command]
    assert tool.main is module.main            # the shim parses nothing itself
    sub = build_parser()._subparsers._group_actions[0].choices[command]
    assert _flags(sub) == _flags(module.build_parser())
    assert len(_flags(sub)) > 2                # help and at least one real flag


def test_python_m_danet_reports_a_bad_flag_as_usage(capsys):
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(['count-macs', 'x.py', '--shape', '3'])
    assert stop.value.code == 2 and '--shape' in capsys.readouterr().err


HELP_ALL = """
import contextlib, io, sys
import danet
from danet.__main__ import main
print('DANET', danet.__file__)
for command in sys.argv[1:]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main([command, '--help'])
    print('HELP', command, out.getvalue().splitlines()[0])
"""


@pytest.mark.slow
def test_a_non_editable_install_runs_the_commands_outside_the_clone(tmp_path):
    source = tmp_path / 'source'   # build from a copy: the clone gets no build/ folder
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        '.git', '.venv', 'work_dirs', 'tests', 'build', '*.egg-info', '__pycache__', '.*cache'))
    site, outside = tmp_path / 'site', tmp_path / 'elsewhere'
    outside.mkdir()
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
                    '--no-build-isolation', '--target', str(site), str(source)],
                   check=True, capture_output=True, cwd=outside)
    shutil.rmtree(source)          # the installed copy must stand alone
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'DANET_SHARED')}
    env['PYTHONPATH'] = str(site)

    def run(*argv):
        proc = subprocess.run([sys.executable, *argv], cwd=outside, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    out = run('-c', HELP_ALL, *COMMANDS, 'new-model')
    assert f'DANET {site / "danet" / "__init__.py"}' in out
    for command in [*COMMANDS, 'new-model']:
        assert f'HELP {command} usage: python -m danet {command}' in out
    assert (site / 'danet/.mim/configs/danet/danet_1xb16-1000e_rain13k.py').is_file()
    assert not (site / 'danet/.mim/configs').is_symlink()   # a copy, followed at build time

    run('-m', 'danet', 'count-macs', 'danet::danet/danet_1xb16-1000e_rain13k.py', '--shape',
        '3', '32', '32', '--out', 'c.json')
    report = json.loads((outside / 'c.json').read_text())
    assert report['params'] == 2_943_138   # DESIGN.md: the released DANet's parameters


def test_shared_data_comes_from_the_environment_or_the_working_folder(tmp_path, monkeypatch):
    from danet.utils.shared import shared_data
    monkeypatch.setenv('DANET_SHARED', str(tmp_path))
    assert shared_data() == tmp_path / 'data'
    monkeypatch.delenv('DANET_SHARED')
    monkeypatch.chdir(tmp_path)
    assert shared_data().resolve() == tmp_path.parent / 'shared' / 'data'
