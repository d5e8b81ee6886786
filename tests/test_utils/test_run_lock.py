"""RunLock under contention: exactly one of many simultaneous takers wins, also when they all
find a stale lock to break."""
import json
import multiprocessing as mp
import socket
import subprocess
import sys
import time

import pytest

from danet.utils.run_lock import LOCK, RunLock

TAKERS = 8
DEAD_PID = 2 ** 22 + 12345   # above the default pid_max: never a live process


def _take(run_dir, barrier, results, done):
    barrier.wait()
    won = RunLock(run_dir).acquire()
    results.put(won)
    done.wait(120)   # alive, the winner holding it, until every taker has tried


def _contend(run_dir) -> list[bool]:
    ctx = mp.get_context('fork')
    barrier, results, done = ctx.Barrier(TAKERS), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_take, args=(run_dir, barrier, results, done))
             for _ in range(TAKERS)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    done.set()
    for p in procs:
        p.join(timeout=60)
    return outcomes


@pytest.mark.parametrize('stale', [False, True], ids=['free', 'stale-lock'])
def test_one_winner_among_concurrent_takers(tmp_path, stale):
    for round_ in range(3):
        run_dir = tmp_path / f'{round_}'
        run_dir.mkdir()
        if stale:
            (run_dir / LOCK).write_text(json.dumps(
                {'pid': DEAD_PID, 'host': socket.gethostname(), 'since': 0}))
        outcomes = _contend(run_dir)
        assert outcomes.count(True) == 1, outcomes
        holder = json.loads((run_dir / LOCK).read_text())
        assert holder['pid'] != DEAD_PID and holder['host'] == socket.gethostname()
        assert not list(run_dir.glob('*.tmp'))


def test_lock_is_never_empty(tmp_path):
    """The holder record is in place the moment the lock exists (no empty window)."""
    lock = RunLock(tmp_path)
    assert lock.acquire()
    assert json.loads((tmp_path / LOCK).read_text())['pid'] > 0
    assert not RunLock(tmp_path).acquire()
    lock.release()
    assert RunLock(tmp_path).acquire()


@pytest.mark.parametrize('record', [
    '[]', '{"pid": "12", "host": "%s", "since": 1}', '{"host": "%s", "since": 1}',
    '{"pid": 0, "host": "%s", "since": 1}', '{"pid": -1, "host": "%s", "since": 1}',
    '{"pid": 1, "host": 7, "since": 1}', '"held"', 'not json', '{"pid": true, "host": "%s"}',
], ids=['list', 'pid-string', 'no-pid', 'pid-0', 'pid-negative', 'host-int', 'string',
        'not-json', 'pid-bool'])
def test_a_malformed_record_is_stale_with_a_warning(tmp_path, record):
    lock = RunLock(tmp_path)
    lock.path.write_text(record.replace('%s', socket.gethostname()))
    with pytest.warns(UserWarning, match='malformed lock record'):
        assert lock.holder() is None
    with pytest.warns(UserWarning, match='malformed lock record'):
        with lock.held():
            assert json.loads(lock.path.read_text())['pid'] > 0
    assert not lock.path.exists()


def test_a_lock_from_another_host_says_which_file_to_delete(tmp_path):
    lock = RunLock(tmp_path)
    lock.path.write_text(json.dumps({'pid': 1, 'host': 'gone-container', 'since': time.time()}))
    with pytest.raises(FileExistsError) as refused:
        with lock.held('training'):
            pass
    message = str(refused.value)
    assert 'gone-container' in message and f'delete {lock.path} and run again' in message
    lock.path.unlink()  # what the message says to do
    with lock.held('training'):
        pass


_TRY = ('import sys\nfrom danet.utils.run_lock import RunLock, RunBusyError\n'
        'try:\n    with RunLock(sys.argv[1]).held("test"):\n        print("worked")\n'
        'except RunBusyError as err:\n    print(err)\n')


def test_a_child_works_under_its_parents_hold_any_other_process_is_refused(tmp_path):
    """A grid's test stage (``tools/test.py --work-dir RUN_DIR``) runs while the runner holds
    RUN_DIR; a process whose parent is not the holder is refused."""
    child = [sys.executable, '-c', _TRY, str(tmp_path)]
    grandchild = [sys.executable, '-c',
                  f'import subprocess, sys; sys.exit(subprocess.run({child!r}).returncode)']
    with RunLock(tmp_path).held('grid run'):
        held = (tmp_path / LOCK).read_bytes()
        assert subprocess.run(child, capture_output=True, text=True).stdout == 'worked\n'
        assert (tmp_path / LOCK).read_bytes() == held   # the child did not release it
        refused = subprocess.run(grandchild, capture_output=True, text=True).stdout
        assert refused.startswith(f'{tmp_path} is in use by another test: pid ')
    assert not (tmp_path / LOCK).exists()
