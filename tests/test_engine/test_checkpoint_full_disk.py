"""A checkpoint that hits a full disk: one error line naming it, exit 2, the previous one intact
and no half-written file (``DerainRunner.save_checkpoint`` writes through ``atomic_path``)."""
from danet.engine.runner import DerainRunner
from tests.test_utils import test_disks
from tests.test_utils.test_disks import _exit, _fill

tmpfs = test_disks.tmpfs  # the fixture: a small tmpfs, mounted (root) or skipped


def test_a_checkpoint_on_a_full_disk_keeps_the_previous_one(tmpfs, tiny_cfg, capsys):
    work = tmpfs(4 << 20) / 'run'
    runner = DerainRunner.from_cfg(tiny_cfg(work))
    runner.save_checkpoint(str(work), 'epoch_1.pth', save_optimizer=False,
                           save_param_scheduler=False)
    before = (work / 'epoch_1.pth').read_bytes()
    _fill(work.parent, leave=4096)
    code, line = _exit(capsys, lambda: runner.save_checkpoint(
        str(work), 'epoch_1.pth', save_optimizer=False, save_param_scheduler=False))
    assert code == 2 and line == (f'error: cannot write {work / "epoch_1.pth"}: No space left '
                                  'on device')
    assert (work / 'epoch_1.pth').read_bytes() == before
    assert not [p for p in work.iterdir() if p.name.startswith('.epoch_1')]
