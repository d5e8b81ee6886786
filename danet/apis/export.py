"""ONNX export of a generator's final output, and its parity/speed check under ONNX Runtime.

``export_onnx`` traces ``generator(x)[0]`` with the batch, height and width dynamic (opset 17)
and writes the file atomically; ``onnx_session`` opens it on ONNX Runtime's CPU provider
(``onnxruntime``, optional dependency: ``pip install -e .[onnx]``). Inputs must be padded to the
generator's ``size_divisor`` as for the PyTorch path.
"""
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from danet.utils.fileio import atomic_path


class _Final(nn.Module):
    def __init__(self, generator: nn.Module):
        super().__init__()
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = self.generator(x)
        return outputs if isinstance(outputs, torch.Tensor) else outputs[0]


def export_onnx(generator: nn.Module, path: str | Path, height: int = 64, width: int = 64) -> Path:
    """Write ``generator``'s final output as an ONNX graph traced at ``height``×``width``."""
    generator = generator.eval()
    example = torch.rand(1, 3, height, width)
    dynamic = {0: 'batch', 2: 'height', 3: 'width'}
    path = Path(path)
    with atomic_path(path, suffix='.onnx') as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the TorchScript-based exporter is deprecated in torch
        torch.onnx.export(_Final(generator), (example,), str(tmp), input_names=['image'],
                          output_names=['derained'], opset_version=17, dynamo=False,
                          dynamic_axes={'image': dynamic, 'derained': dynamic})
    return path


def onnx_session(path: str | Path, threads: int | None = None):
    try:
        import onnxruntime
    except ImportError:
        raise ImportError('onnxruntime is not installed: pip install -e .[onnx]') from None
    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])


def compare_onnx(engine, session, x: torch.Tensor, repeats: int = 3) -> dict:
    """Max |ONNX − engine| on ``x`` and both median latencies (calls interleaved)."""
    times = {'engine': [], 'onnxruntime': []}
    for _ in range(repeats + 1):  # the first round warms both up
        start = time.perf_counter()
        ours = engine.final(x)
        times['engine'].append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs = session.run(None, {'image': x.numpy()})[0]
        times['onnxruntime'].append(time.perf_counter() - start)
    return dict(max_abs_diff=float(np.abs(theirs - ours.numpy()).max()),
                **{f'{k}_ms': 1000 * float(np.median(v[1:])) for k, v in times.items()})
