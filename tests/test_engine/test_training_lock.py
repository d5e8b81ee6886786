"""Two trainings in one run directory: the second refuses naming the holder; a dead holder's lock
is taken over. Real ``tools/train.py`` processes; the first is stopped (SIGSTOP) while it holds
the lock, so the timing cannot decide the outcome."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from mmengine.config import Config

from danet.engine.runner import training_lock
from danet.utils.run_lock import LOCK, LOCK_FILES, RunBusyError, RunLock


def _wait_for_lock(path, pid, proc, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if json.loads(path.read_text())['pid'] == pid:
                return
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        assert proc.poll() is None, f'first training ended (exit {proc.returncode}) unlocked'
        time.sleep(0.05)
    raise TimeoutError(f'{path} never named pid {pid}')


def _run_files(work):
    return {p.name: p.stat().st_mtime_ns for p in work.iterdir() if p.name not in LOCK_FILES}


@pytest.mark.slow
def test_second_training_refuses_and_a_dead_holders_lock_is_taken_over(
        tiny_config_file, tmp_path, repo_root):
    work = tmp_path / 'run'
    train = [sys.executable, 'tools/train.py', str(tiny_config_file), '--work-dir', str(work)]
    first = subprocess.Popen(train, cwd=repo_root, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        _wait_for_lock(work / LOCK, first.pid, first)
        os.kill(first.pid, signal.SIGSTOP)   # alive, holding the lock, doing nothing
        before = _run_files(work)
        second = subprocess.run(train, cwd=repo_root, capture_output=True, text=True,
                                timeout=300)
        assert second.returncode == 2, second.stderr
        assert f'in use by another training: pid {first.pid} on ' in second.stderr
        assert str(work / LOCK) in second.stderr and 'Traceback' not in second.stderr
        assert _run_files(work) == before   # touched nothing
    finally:
        first.kill()
        first.wait()
    assert json.loads((work / LOCK).read_text())['pid'] == first.pid   # left behind: stale

    third = subprocess.run(train + ['--resume'], cwd=repo_root, capture_output=True, text=True,
                           timeout=600)
    assert third.returncode == 0, third.stderr[-3000:]
    assert (work / 'last_checkpoint').is_file() and not (work / LOCK).exists()


def test_only_rank_zero_of_a_distributed_training_takes_the_lock(tmp_path, monkeypatch):
    cfg = Config(dict(work_dir=str(tmp_path), launcher='pytorch'))
    monkeypatch.setenv('RANK', '1')
    with training_lock(cfg):
        assert not (tmp_path / LOCK).exists()
    monkeypatch.setenv('RANK', '0')
    with training_lock(cfg):
        assert json.loads((tmp_path / LOCK).read_text())['pid'] == os.getpid()
        with pytest.raises(RunBusyError, match=f'pid {os.getpid()} on '):
            with RunLock(tmp_path).held('training'):
                pass
    assert not (tmp_path / LOCK).exists()
