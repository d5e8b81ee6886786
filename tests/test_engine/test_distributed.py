"""DDP on CPU: two gloo processes through ``tools/dist_train.sh`` (torchrun) and through
``tools/slurm_train.sh`` on the one-node Slurm cluster (2 tasks, ``GPUS_PER_NODE=0``)."""
import json
import os
import socket
import subprocess
import sys

import pytest
import torch

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def train_env() -> dict:
    return dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), CUDA_VISIBLE_DEVICES='',
                OMP_NUM_THREADS='1')


def weights(work_dir) -> dict:
    checkpoint = torch.load(work_dir / 'epoch_2.pth', map_location='cpu', weights_only=True)
    return checkpoint['state_dict']


@pytest.fixture(scope='module')
def torchrun_run(tiny_config_file, repo_root, tmp_path_factory):
    """The tiny config trained for 2 epochs by 2 torchrun processes."""
    work_dir = tmp_path_factory.mktemp('torchrun') / 'ddp'
    result = subprocess.run(['bash', 'tools/dist_train.sh', str(tiny_config_file), '2',
                             '--work-dir', str(work_dir)],
                            cwd=repo_root, env=train_env(), capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return work_dir


def test_two_process_gloo_training_shards_the_data_and_checkpoints(torchrun_run):
    work_dir = torchrun_run
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


def test_two_slurm_tasks_on_cpu_train_the_same_weights_as_torchrun(slurm_cluster, torchrun_run,
                                                                   tiny_config_file, repo_root,
                                                                   tmp_path):
    work_dir = tmp_path / 'slurm'
    env = dict(train_env(), GPUS='2', GPUS_PER_NODE='0', CPUS_PER_TASK='1')
    result = subprocess.run(['bash', 'tools/slurm_train.sh', 'debug', 'danet-ddp',
                             str(tiny_config_file), str(work_dir)],
                            cwd=repo_root, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    log = next((work_dir / 'logs').glob('*.log')).read_text()
    assert 'Distributed training: True' in log and 'GPU number: 2' in log
    slurm, torchrun = weights(work_dir), weights(torchrun_run)
    assert slurm.keys() == torchrun.keys()
    assert all(torch.equal(slurm[k], torchrun[k]) for k in slurm)
