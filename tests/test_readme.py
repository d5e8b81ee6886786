"""The README's "researcher's day" block runs as written, in order, on a fresh copy of the
repository whose ``../shared/data`` holds a few images of each set (toy scale)."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# images per set: Train40 keeps a validation background, the test sets stay quick
TOY_SIZES = {'Train40': 5, 'Rain100L': 3, 'Rain100H': 3}


def readme_commands(readme: Path) -> list[tuple[str, set[int]]]:
    """The logical lines of the first ``bash`` block after "A researcher's day", each with the
    exit codes it may end with: 0, and N where its comment says "exit N" (a finding, e.g. leaks)."""
    text = readme.read_text()
    block = re.search(r"A researcher's day.*?```bash\n(.*?)```", text, re.S).group(1)
    joined = block.replace('\\\n', ' ')
    return [(line.strip(), {0, *map(int, re.findall(r'#.*\bexit (\d+)', line))})
            for line in joined.splitlines() if line.strip() and not line.strip().startswith('#')]


def fresh_copy(repo_root: Path, dest: Path) -> None:
    """The files a clone would have (tracked and not ignored), nothing built or packed."""
    listed = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard'],
                            cwd=repo_root, capture_output=True, text=True, check=True).stdout
    for rel in listed.splitlines():
        source = repo_root / rel
        if rel.startswith('.venv') or not source.is_file():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest / rel)


def toy_shared_data(shared_data: Path, dest: Path) -> None:
    for name, count in TOY_SIZES.items():
        for sub in ('rainy', 'clean'):
            (dest / name / sub).mkdir(parents=True)
            for image in sorted((shared_data / name / sub).iterdir())[:count]:
                (dest / name / sub / image.name).symlink_to(image)


@pytest.mark.slow
def test_readme_commands_run_in_order_on_a_fresh_copy(repo_root, shared_data, tmp_path):
    commands = readme_commands(repo_root / 'README.md')
    assert any('tools/train.py' in c for c, _ in commands) and len(commands) >= 10
    clone = tmp_path / 'danet'
    fresh_copy(repo_root, clone)
    toy_shared_data(shared_data, tmp_path / 'shared' / 'data')
    bin_dir = Path(sys.executable).parent  # the venv's: `python` is this interpreter
    assert (bin_dir / 'python').exists()
    env = {k: v for k, v in os.environ.items()
           if k not in ('OMP_NUM_THREADS', 'DANET_CPUS', 'DANET_SHARED')}
    env.update(PATH=f'{bin_dir}{os.pathsep}{env["PATH"]}', PYTHONPATH=str(clone))
    for command, codes in commands:
        proc = subprocess.run(['bash', '-c', command], cwd=clone, env=env, capture_output=True,
                              text=True, timeout=900)
        assert proc.returncode in codes, \
            f'$ {command}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    assert (clone / 'work_dirs' / 'smoke' / 'results' / 'Rain100H.json').is_file()
    assert len(list((clone / 'work_dirs' / 'smoke' / 'derained').glob('*.png'))) == 3
    assert (clone / 'work_dirs' / 'report' / 'index.html').is_file()
