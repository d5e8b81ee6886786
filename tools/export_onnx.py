"""Export a config's generator (+ checkpoint) to ONNX and check it against the inference engine:
``python tools/export_onnx.py CONFIG OUT.onnx [--checkpoint CKPT] [--check 256x256]
[--cfg-options k=v ...]``.

``--check HxW`` runs a random image of that size through ONNX Runtime and the engine and prints
the largest difference and both median latencies."""
import argparse
import os
import sys

import torch
from mmengine.config import DictAction
from mmengine.registry import init_default_scope

from danet.apis.export import compare_onnx, export_onnx, onnx_session
from danet.apis.inference import init_model
from danet.engine.inference import InferenceEngine
from danet.registry import SCOPE


def main(argv=None) -> dict | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('out', help='ONNX file to write')
    parser.add_argument('--checkpoint')
    parser.add_argument('--check', metavar='HxW', help='compare with the engine at this size')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, key=value')
    args = parser.parse_args(argv)
    init_default_scope(SCOPE)
    model = init_model(args.config, args.checkpoint, cfg_options=args.cfg_options)
    export_onnx(model.generator, args.out)
    print(f'wrote {args.out}')
    if not args.check:
        return None
    try:
        height, width = (int(v) for v in args.check.lower().split('x'))
    except ValueError:
        print(f'--check: expected HxW such as 256x256, got {args.check!r}', file=sys.stderr)
        sys.exit(2)
    result = compare_onnx(InferenceEngine(model), onnx_session(args.out, torch.get_num_threads()),
                          torch.rand(1, 3, height, width))
    print(f'{height}x{width}, {torch.get_num_threads()} threads, load {os.getloadavg()[0]:.1f}: '
          f'max |onnx - engine| {result["max_abs_diff"]:.2e}; engine {result["engine_ms"]:.1f} '
          f'ms, onnxruntime {result["onnxruntime_ms"]:.1f} ms')
    return result


if __name__ == '__main__':
    main()
