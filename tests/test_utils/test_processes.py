"""``pid_alive``: live processes, exited ones and unreaped zombies."""
import os
import subprocess
import sys
import time
from pathlib import Path

from danet.utils.processes import pid_alive


def test_a_zombie_counts_as_dead():
    """A job killed with its runner lingers as a zombie where nothing reaps orphans; locks and
    partial files it held must count as stale, or a restart would wait for it forever."""
    child = subprocess.Popen([sys.executable, '-c', 'pass'])
    deadline = time.time() + 120   # a failure bound: the loop waits for the state
    while Path(f'/proc/{child.pid}/stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z':
        assert time.time() < deadline, 'child did not exit'
        time.sleep(0.05)
    assert not pid_alive(child.pid)   # exited but not yet reaped
    child.wait()
    assert not pid_alive(child.pid) and pid_alive(os.getpid())
