"""Read-only and full disks at the write points of commands: one ``error:`` line naming the path,
exit 2, nothing half-written, the previous file intact. Real file systems: a small tmpfs mounted
read-only or filled up (needs root, as in CI; skipped with the reason otherwise)."""
import os
import subprocess

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from danet.registry import MODELS
from danet.utils.cli import run_main


@pytest.fixture
def tmpfs(tmp_path):
    """``tmpfs(size, read_only=False)``: a fresh tmpfs of ``size`` bytes mounted in tmp_path."""
    mounted = []

    def mount(size: int, read_only: bool = False):
        point = tmp_path / f'mnt{len(mounted)}'
        point.mkdir()
        options = f'size={size},mode=0777' + (',ro' if read_only else '')
        done = subprocess.run(['mount', '-t', 'tmpfs', '-o', options, 'tmpfs', str(point)],
                              capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f'cannot mount a tmpfs here (needs root, as in CI): '
                        f'{done.stderr.strip()}')
        mounted.append(point)
        return point
    yield mount
    for point in mounted:
        subprocess.run(['umount', '-l', str(point)], check=False)


def _fill(folder, leave: int) -> None:
    """Fill the file system of ``folder`` up to ``leave`` free bytes."""
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(folder / 'filler', 'wb') as f:
        f.write(b'\0' * max(free - leave, 0))


def _exit(capsys, main) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        run_main(main)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith('error:')]
    assert 'Traceback' not in err and len(lines) == 1, err
    return done.value.code, lines[0]


def test_new_model_on_a_read_only_disk(tmpfs, capsys):
    from danet.__main__ import main
    out = tmpfs(1 << 20, read_only=True) / 'pkg'
    code, line = _exit(capsys, lambda: main(['new-model', 'mynet', '--out', str(out)]))
    assert code == 2 and line == f'error: cannot write {out}: Read-only file system'


def test_device_check_on_a_read_only_disk(tmpfs, capsys, monkeypatch):
    from tools import device_check
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)  # every part skips fast
    out = tmpfs(1 << 20, read_only=True) / 'check'
    code, line = _exit(capsys, lambda: device_check.main(['--out-dir', str(out),
                                                          '--parts', 'golden']))
    assert code == 2 and line == f'error: cannot write {out}: Read-only file system'


def test_results_on_a_full_disk_keep_the_previous_file(tmpfs, capsys):
    from danet.utils.fileio import atomic_write_json
    folder = tmpfs(64 << 10)
    path = folder / 'results' / 'Rain100L.json'
    atomic_write_json(path, {'previous': True})
    _fill(folder, leave=4096)
    code, line = _exit(capsys, lambda: atomic_write_json(path, {'rows': ['x' * 64] * 1000}))
    assert code == 2 and line == f'error: cannot write {path}: No space left on device'
    assert path.read_text() == '{\n  "previous": true\n}\n'
    assert sorted(p.name for p in path.parent.iterdir()) == ['Rain100L.json']


@pytest.fixture
def tiny_model(repo_root, tmp_path):
    """``(config, checkpoint)`` of a narrow DANet with random weights."""
    init_default_scope('danet')
    cfg = Config.fromfile(str(repo_root / 'configs/danet/danet_smoke-cpu_1xb4-100e_train40.py'))
    cfg.model.generator.update(n_feat=8, num_cab=1)
    cfg.dump(tmp_path / 'tiny.py')
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, tmp_path / 'w.pth')
    return str(tmp_path / 'tiny.py'), str(tmp_path / 'w.pth')


def test_derained_images_on_a_full_disk_keep_the_previous_output(tmpfs, tiny_model, tmp_path,
                                                                 capsys):
    from tools import derain
    src = tmp_path / 'in'
    src.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)).save(
        src / 'a.png')
    out = tmpfs(256 << 10) / 'out'
    out.mkdir()
    (out / 'a.png').write_bytes(b'previous')
    _fill(out.parent, leave=6144)   # a page for the output folder's lock record, not the image
    code, line = _exit(capsys, lambda: derain.main([*tiny_model, str(src), str(out)]))
    assert code == 2 and line == f'error: cannot write {out / "a.png"}: No space left on device'
    assert (out / 'a.png').read_bytes() == b'previous'
    assert sorted(p.name for p in out.iterdir()) == ['a.png']


def test_a_lock_that_cannot_be_written_names_the_lock(tmpfs, capsys):
    from danet.utils.run_lock import LOCK, RunLock
    run = tmpfs(256 << 10) / 'run'
    run.mkdir()
    _fill(run.parent, leave=0)
    code, line = _exit(capsys, lambda: RunLock(run).acquire())
    assert code == 2 and line == f'error: cannot write {run / LOCK}: No space left on device'
    assert sorted(p.name for p in run.iterdir()) == []
