"""DDP on CPU: ``tools/dist_train.sh`` with two gloo processes on this machine."""
import json
import os
import socket
import subprocess
import sys

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_process_gloo_training_shards_the_data_and_checkpoints(tiny_config_file, repo_root,
                                                                    tmp_path):
    work_dir = tmp_path / 'ddp'
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), CUDA_VISIBLE_DEVICES='')
    result = subprocess.run(['bash', 'tools/dist_train.sh', str(tiny_config_file), '2',
                             '--work-dir', str(work_dir)],
                            cwd=repo_root, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    log = next((work_dir / 'logs').glob('*.log')).read_text()
    assert 'Distributed training: True' in log and 'GPU number: 2' in log  # world size 2
    assert (work_dir / 'epoch_2.pth').is_file()
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith('epoch_2.pth')
    records = [json.loads(line) for line in
               (work_dir / 'logs' / 'vis_data' / 'scalars.json').read_text().splitlines()]
    train = [r for r in records if 'loss' in r]
    # 4 training pairs, batch 2 per process: each rank takes half, so 1 iteration per epoch
    assert [(r['epoch'], r['iter']) for r in train] == [(1, 1), (2, 2)]
    for key in ('loss_char', 'loss_edge', 'loss_ssim', 'loss_assoc_char', 'loss_assoc_edge'):
        assert all(key in r for r in train), key
