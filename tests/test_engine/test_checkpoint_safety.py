"""No checkpoint is unpickled beyond ``weights_only``: a malicious ``.pth`` in a genuine-looking run
folder is refused by every entry point, and the platform's own checkpoints load weights-only."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from PIL import Image

from danet.apis import init_model
from danet.engine.checkpoint_state import from_plain, to_plain
from danet.engine.runner import run_training
from tools import test as test_tool


class Payload:
    """Unpickling this runs ``touch <marker>``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


@pytest.fixture
def evil_run(straight_run, tmp_path):
    """A copy of a real run folder (env.json, config.py, logs, last_checkpoint) whose
    checkpoints are replaced by pickles that create ``<tmp>/pwned`` when loaded."""
    run = tmp_path / 'run'
    shutil.copytree(straight_run, run)
    (run / 'last_checkpoint').write_text(str(run / 'epoch_2.pth'))
    marker = tmp_path / 'pwned'
    for ckpt in run.glob('*.pth'):
        torch.save(dict(state_dict={}, meta=Payload(marker)), ckpt)
    torch.load(next(run.glob('*.pth')), weights_only=False)  # the payload is real ...
    assert marker.exists()
    marker.unlink()  # ... and from here on must never run
    return run, marker


def test_own_training_checkpoint_loads_weights_only_and_round_trips(straight_run):
    checkpoint = torch.load(straight_run / 'epoch_2.pth', weights_only=True)
    buffers = checkpoint['message_hub']['log_scalars']
    assert 'train/loss' in buffers
    hub = from_plain(checkpoint['message_hub'])
    loss = hub['log_scalars']['train/loss']
    assert isinstance(loss, HistoryBuffer) and loss.data[0].dtype == np.float64
    again = to_plain(hub)
    assert again == checkpoint['message_hub']
    with pytest.raises(TypeError, match=r"checkpoint\['x'\]: a Payload cannot be saved"):
        to_plain(dict(x=Payload('unused')), 'checkpoint')


@pytest.mark.slow
def test_malicious_checkpoint_in_a_run_folder_is_refused_by_every_entry_point(
        evil_run, tiny_config_file, tiny_cfg, repo_root, monkeypatch, tmp_path):
    run, marker = evil_run
    checkpoint = run / 'epoch_2.pth'
    refused = r'refused to unpickle, it needs posix.system'
    with pytest.raises(ValueError, match=refused):
        init_model(str(tiny_config_file), checkpoint)
    monkeypatch.chdir(repo_root)
    with pytest.raises(ValueError, match=refused):
        test_tool.main([str(tiny_config_file), str(checkpoint)])
    with pytest.raises(ValueError, match=refused):  # last_checkpoint names an evil epoch_2.pth
        run_training(tiny_cfg(run, max_epochs=3), resume=True)
    image = tmp_path / 'rainy.png'
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(image)
    proc = subprocess.run([sys.executable, 'tools/derain.py', str(tiny_config_file),
                           str(checkpoint), str(image), str(tmp_path / 'out')],
                          capture_output=True, text=True, cwd=repo_root)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith('error:') and 'posix.system' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert not marker.exists() and not (tmp_path / 'out').exists()
