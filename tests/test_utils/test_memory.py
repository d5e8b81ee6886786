"""The memory policy keeps freed feature maps in the process: no page faults on reuse."""
import os
import subprocess
import sys

CODE = '''
import torch
from danet.utils.memory import keep_freed_memory, minor_faults
active = keep_freed_memory()
from danet.models.danet.danet_net import DANet
torch.set_num_threads(1)
net, x = DANet(n_feat=16, num_cab=2).eval(), torch.rand(1, 3, 192, 192)
with torch.no_grad():
    for _ in range(3):
        net(x)
    before = minor_faults()
    for _ in range(3):
        net(x)
print(active, minor_faults() - before)
'''


def _faults(**env) -> tuple[str, int]:
    out = subprocess.run([sys.executable, '-c', CODE], capture_output=True, text=True, check=True,
                         env=dict(os.environ, **env)).stdout.split()
    return out[0], int(out[1])


def test_forwards_reuse_freed_memory_without_faults_and_policy_can_be_off():
    active, faults = _faults()
    assert active == 'True' and faults < 500
    active, default_faults = _faults(DANET_MALLOC='default')
    assert active == 'False' and default_faults > 2000  # glibc hands maps back and re-faults them
