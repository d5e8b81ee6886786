"""Atomic writes: complete or absent, and the permissions a plain ``open()`` would give."""
import os
import stat

import pytest

from danet.utils.cli import describe_error
from danet.utils.fileio import atomic_dir, atomic_path, atomic_write_json, atomic_write_text


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize('mask', [0o022, 0o002, 0o077])
def test_new_file_gets_the_umask_mode(tmp_path, umask, mask):
    umask(mask)
    atomic_write_json(tmp_path / 'r.json', {'a': 1})
    with open(tmp_path / 'plain.json', 'w') as f:
        f.write('{}')
    assert _mode(tmp_path / 'r.json') == 0o666 & ~mask == _mode(tmp_path / 'plain.json')


def test_replacing_a_file_keeps_its_mode(tmp_path, umask):
    """As ``open(path, 'w')`` does, rewriting an existing file keeps the owner's chosen mode."""
    umask(0o022)
    target = tmp_path / 'shared.txt'
    target.write_text('old')
    target.chmod(0o640)
    atomic_write_text(target, 'new')
    assert target.read_text() == 'new' and _mode(target) == 0o640


def test_failed_block_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / 'x.png', suffix='.png') as tmp:
        tmp.write_bytes(b'half')
        raise RuntimeError('stopped')
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('kind', ['non-empty folder', 'file'])
def test_atomic_dir_refused_rename_names_the_target(tmp_path, kind):
    target = tmp_path / 'out'
    if kind == 'file':
        target.write_text('keep')
    else:
        target.mkdir()
        (target / 'old.txt').write_text('keep')
    with pytest.raises(OSError) as info:
        with atomic_dir(target) as tmp:
            (tmp / 'new.txt').write_text('new')
    assert info.value.filename == str(target) and info.value.filename2 is None
    assert describe_error(info.value) == f'{target}: exists and is not an empty folder'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out']   # no hidden temporary left
    assert (target.read_text() if kind == 'file' else (target / 'old.txt').read_text()) == 'keep'
