"""Two trainings (or two tests) in one run directory: the second refuses naming the holder; a dead
holder's lock is taken over. Real ``tools/train.py`` / ``tools/test.py`` processes; the first
stops itself (``STOP_HOLDING``: SIGSTOP) right after taking the lock, so the timing cannot decide
the outcome."""
import json
import os
import subprocess
import sys
import time

import pytest
from mmengine.config import Config

from danet.engine.runner import run_dir_lock
from danet.utils.run_lock import LOCK, LOCK_FILES, STOP_HOLDING, RunBusyError, RunLock


def _wait_for_lock(path, pid, proc, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if json.loads(path.read_text())['pid'] == pid:
                return
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        assert proc.poll() is None, f'first process ended (exit {proc.returncode}) unlocked'
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
                             stderr=subprocess.DEVNULL,
                             env={**os.environ, STOP_HOLDING: 'training'})
    try:
        _wait_for_lock(work / LOCK, first.pid, first)   # stopped: alive, holding it, idle
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

    # the first stopped itself right after taking the lock, before writing anything
    assert _run_files(work) == {}
    third = subprocess.run(train, cwd=repo_root, capture_output=True, text=True, timeout=600)
    assert third.returncode == 0, third.stderr[-3000:]
    assert (work / 'last_checkpoint').is_file() and not (work / LOCK).exists()


def test_only_rank_zero_of_a_distributed_training_takes_the_lock(tmp_path, monkeypatch):
    cfg = Config(dict(work_dir=str(tmp_path), launcher='pytorch'))
    monkeypatch.setenv('RANK', '1')
    with run_dir_lock(cfg, 'training'):
        assert not (tmp_path / LOCK).exists()
    monkeypatch.setenv('RANK', '0')
    with run_dir_lock(cfg, 'training'):
        assert json.loads((tmp_path / LOCK).read_text())['pid'] == os.getpid()
        with pytest.raises(RunBusyError, match=f'pid {os.getpid()} on '):
            with RunLock(tmp_path).held('training'):
                pass
    assert not (tmp_path / LOCK).exists()


@pytest.mark.slow
def test_second_test_into_one_run_folder_refuses_and_a_killed_one_keeps_the_results(
        straight_run, tiny_config_file, tmp_path, repo_root):
    work = tmp_path / 'eval'
    test = [sys.executable, 'tools/test.py', str(tiny_config_file),
            str(straight_run / 'epoch_2.pth'), '--work-dir', str(work), '--testsets', 'Rain100L']
    done = subprocess.run(test, cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = work / 'results' / 'Rain100L.json'
    kept = results.read_bytes()
    first = subprocess.Popen(test, cwd=repo_root, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env={**os.environ, STOP_HOLDING: 'test'})
    try:
        _wait_for_lock(work / LOCK, first.pid, first)   # stopped: alive, holding it, idle
        before = _run_files(work)
        second = subprocess.run(test, cwd=repo_root, capture_output=True, text=True,
                                timeout=300)
        assert second.returncode == 2, second.stderr
        assert second.stderr.startswith(f'error: {work} is in use by another test: pid '
                                        f'{first.pid} on ')
        assert 'Traceback' not in second.stderr and _run_files(work) == before
    finally:
        first.kill()
        first.wait()
    assert results.read_bytes() == kept   # the killed test left the previous results whole
    assert not [p for p in work.rglob('.*.tmp')]
    third = subprocess.run(test, cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr[-3000:]   # the dead holder's lock taken over
    assert not (work / LOCK).exists()
