"""Documented commands cannot drift: every fenced shell command of README.md and docs/*.md is
extracted here and checked on a fresh copy of the repository.

The README's "researcher's day" block runs as written, in order, on toy data (a few images of each
set under ``../shared/data``). Every other command gets the check its ``RULES`` entry names (first
match wins; no entry: run as written, exit 0): ``help`` (the program's ``--help``, run in this
process, must list every ``--flag`` the command uses), ``make`` (``make -n TARGET``), ``script``
(``bash -n``) or ``none``; a command not run as written is then skipped with the rule's reason
(cluster, GPU, real weights, long run), which pytest prints (``-ra``).
"""
import contextlib
import functools
import io
import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS = [REPO_ROOT / 'README.md', *sorted((REPO_ROOT / 'docs').glob('*.md'))]
# images per set: Train40 keeps a validation background, the test sets stay quick
TOY_SIZES = {'Train40': 5, 'Rain100L': 3, 'Rain100H': 3}
SHELL_BLOCKS = ('bash', 'sh', 'shell', '')
COMMAND_START = re.compile(r'(python |make |tools/|sudo |export |sinfo|for |[A-Z_]+=\S+ )')
DAY = "A researcher's day"

# (regex searched in the command, check, why it is not run as written)
RULES = [
    (r'^make (demo|test)\b', 'make',
     'the demo / the whole suite: CI runs `make test`, tests/test_demo.py the demo at toy size'),
    (r'tools/(slurm_train|dist_train|local_slurm)\.sh', 'script',
     'needs a Slurm cluster, root or several processes (tests/test_ablations/test_slurm*.py, '
     'tests/test_engine/test_distributed.py run them)'),
    (r'^(export SLURM_CONF|sinfo)', 'none', 'talks to a Slurm cluster'),
    (r'--executor slurm', 'help', 'submits to a Slurm cluster'),
    (r'^python -m ablations rank ', 'help',
     'evaluates the zoo and a trained checkpoint: tests/test_plugin.py runs it at toy scale'),
    (r'^python -m ablations run ', 'help',
     "trains the grid's runs: minutes to days, on the demo's or the packed data"),
    (r'work_dirs/(demo|ablations)/', 'help', 'reads a finished `make demo` or grid'),
    (r'tools/benchmark_', 'help', 'a benchmark: minutes of timing'),
    (r'tools/zoo_complexity\.py', 'help', 'counts and times every model: minutes '
     '(tests/test_benchmarks/test_zoo.py runs it on two small models)'),
    (r'analysis complexity ', 'help', 'renders the table tools/zoo_complexity.py measured '
     '(tests/test_benchmarks/test_zoo.py renders one)'),
    (r'analysis complexity-plot', 'help', 'reads a zoo table and finished release-grid runs '
     '(tests/test_analysis/test_complexity_plot.py runs it on the shared store)'),
    (r'data_tools bench', 'help', 'the scale benchmark: minutes (rows in docs/datasets.md)'),
    (r'--shard-size', 'help', 'packs a full set (tests/test_data_tools/test_pack_scale.py packs '
     'shards, resumes and reads them at toy size)'),
    (r'tools/convert_checkpoint\.py', 'help', "needs the authors' released weights"),
    (r'tools/export_onnx\.py', 'help',
     'exports the full DANet (tests/test_tools/test_export_onnx.py checks a small one)'),
    (r'tools/(train|test|derain)\.py', 'help',
     'trains or evaluates a trained model: the README block runs them at toy scale'),
    (r'data_tools leaks .*RealRain', 'help', 'fingerprints every image of four full sets'),
    (r'--variant', 'help', 'counts 13 variants: about 5 minutes'),
    (r'tools/demo\.py', 'help', 'the demo: tests/test_demo.py runs it at toy size'),
]


def _open_quote(text: str) -> bool:
    try:
        shlex.split(text.removesuffix('\\'), comments=True)
    except ValueError:
        return True
    return False


def doc_blocks(path: Path) -> list[tuple[int, list[tuple[int, str]]]]:
    """``(first line, [(line, command), ...])`` for each ``bash`` or untagged fenced block of
    ``path``. A command is a line that starts like one (``python``, ``make``, ``tools/``...)
    with its backslash continuations, indented continuation lines and multi-line quotes;
    output lines are left out."""
    blocks, text = [], path.read_text()
    for block in re.finditer(r'^```(\w*)\n(.*?)^```', text, re.S | re.M):
        if block.group(1) not in SHELL_BLOCKS:
            continue
        first, current, found = text[:block.start(2)].count('\n') + 1, None, []
        for offset, line in enumerate(block.group(2).splitlines()):
            if current and _open_quote(current[1]):
                current[1] += '\n' + line
            elif current and (current[1].endswith('\\') or line[:1].isspace()) and line.strip():
                current[1] = current[1].removesuffix('\\').rstrip() + ' ' + line.strip()
            elif COMMAND_START.match(line):
                current = [first + offset, line.strip()]
                found.append(current)
            else:
                current = None
        blocks.append((first, [(n, command) for n, command in found]))
    return blocks


def expected_codes(command: str) -> set[int]:
    """0, and N where the command's comment says "exit N" (a finding, e.g. leaks)."""
    return {0, *map(int, re.findall(r'#.*\bexit (\d+)', command))}


def readme_commands(readme: Path) -> list[tuple[str, set[int]]]:
    """The commands of the first block after "A researcher's day", with their exit codes."""
    text = readme.read_text()
    day = text[:text.index(DAY)].count('\n') + 1
    _, commands = next(block for block in doc_blocks(readme) if block[0] > day)
    return [(command, expected_codes(command)) for _, command in commands]


def fresh_copy(repo_root: Path, dest: Path) -> None:
    """The files a clone would have (tracked and not ignored), nothing built or packed."""
    listed = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard'],
                            cwd=repo_root, capture_output=True, text=True, check=True).stdout
    for rel in listed.splitlines():
        source = repo_root / rel
        if rel.startswith('.venv') or not (source.is_file() or source.is_symlink()):
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():   # danet/.mim/configs -> ../../configs
            (dest / rel).symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, dest / rel)


def toy_shared_data(shared_data: Path, dest: Path) -> None:
    for name, count in TOY_SIZES.items():
        for sub in ('rainy', 'clean'):
            (dest / name / sub).mkdir(parents=True)
            for image in sorted((shared_data / name / sub).iterdir())[:count]:
                (dest / name / sub / image.name).symlink_to(image)


def clone_env(clone: Path) -> dict:
    """This interpreter's venv first on PATH (``python`` is it), the clone importable."""
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items()
           if k not in ('OMP_NUM_THREADS', 'DANET_CPUS', 'DANET_SHARED')}
    env.update(PATH=f'{bin_dir}{os.pathsep}{env["PATH"]}', PYTHONPATH=str(clone))
    return env


@pytest.fixture(scope='module')
def clone(repo_root, shared_data, tmp_path_factory):
    """A fresh copy beside toy ``shared/data``."""
    root = tmp_path_factory.mktemp('docs')
    fresh_copy(repo_root, root / 'danet')
    toy_shared_data(shared_data, root / 'shared' / 'data')
    return root / 'danet'


@pytest.mark.slow
def test_readme_commands_run_in_order_on_a_fresh_copy(repo_root, shared_data, tmp_path):
    commands = readme_commands(repo_root / 'README.md')
    assert any('tools/train.py' in c for c, _ in commands) and len(commands) >= 10
    clone = tmp_path / 'danet'
    fresh_copy(repo_root, clone)
    toy_shared_data(shared_data, tmp_path / 'shared' / 'data')
    env = clone_env(clone)
    for command, codes in commands:
        proc = subprocess.run(['bash', '-c', command], cwd=clone, env=env, capture_output=True,
                              text=True, timeout=900)
        assert proc.returncode in codes, \
            f'$ {command}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    assert (clone / 'work_dirs' / 'smoke' / 'results' / 'Rain100H.json').is_file()
    assert len(list((clone / 'work_dirs' / 'smoke' / 'derained').glob('*.png'))) == 3
    assert (clone / 'work_dirs' / 'report' / 'index.html').is_file()


def documented() -> list:
    """Every documented command but the README's researcher's day (run by the test above)."""
    day = {c for c, _ in readme_commands(REPO_ROOT / 'README.md')}
    return [pytest.param(command, id=f'{path.relative_to(REPO_ROOT)}:{line}')
            for path in DOCS for _, commands in doc_blocks(path) for line, command in commands
            if command not in day]


@functools.cache
def _help(program: tuple[str, ...], cwd: Path) -> str:
    """``program --help`` run in this process (``runpy``: the real entry point, without a new
    interpreter's imports)."""
    args, out = [*program[1:], '--help'], io.StringIO()
    argv, here = sys.argv, os.getcwd()
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
            if args[0] == '-m':
                sys.argv = args[1:]
                runpy.run_module(args[1], run_name='__main__', alter_sys=True)
            else:
                sys.argv = args
                runpy.run_path(args[0], run_name='__main__')
    finally:
        sys.argv = argv
        os.chdir(here)
    assert exit_info.value.code in (0, None), f'$ {" ".join(program)} --help: exit code ' \
        f'{exit_info.value.code}'
    return out.getvalue()


def check_flags(command: str, cwd: Path) -> None:
    """The program's ``--help`` lists every ``--flag`` of ``command``."""
    words = shlex.split(command, comments=True)
    assert words[0] == 'python', f'{command}: a help check needs a python command'
    program = words[:2] if words[1] != '-m' else words[:3]
    if words[1] == '-m' and len(words) > 3 and re.fullmatch(r'[a-z][a-z_-]*', words[3]):
        program = words[:4]   # a subcommand
    text = _help(tuple(program), cwd)
    flags = {w.split('=')[0].strip('[]') for w in words if w.startswith(('--', '[--'))}
    missing = sorted(f for f in flags if f not in text)
    assert not missing, f'{command}: `{" ".join(program)} --help` lists no {missing}'


@pytest.mark.slow
@pytest.mark.parametrize('command', documented())
def test_documented_command(command, clone):
    check, reason = next(((check, reason) for pattern, check, reason in RULES
                          if re.search(pattern, command)), ('run', None))
    env = clone_env(clone)
    if check == 'run':
        proc = subprocess.run(['bash', '-c', command], cwd=clone, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode in expected_codes(command), \
            f'$ {command}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
        return
    if check == 'help':
        check_flags(command, clone)
    elif check == 'make':
        target = command.split()[1]
        subprocess.run(['make', '-n', target], cwd=clone, check=True, capture_output=True)
    elif check == 'script':
        script = clone / re.search(r'tools/\w+\.sh', command).group(0)
        assert os.access(script, os.X_OK), f'{script} is not executable'
        subprocess.run(['bash', '-n', str(script)], check=True)
    shown = re.sub(r'\s+#.*', '', command.splitlines()[0])[:80]
    pytest.skip(f'{check} check only, {reason}: {shown}')
