"""Inference speed and memory of the generators, measured side by side in one run.

    python -m danet benchmark-inference --models danet mprnet --shapes 256x256 320x480 \
        --out FILE.json
    python -m danet benchmark-inference --models danet MY_CONFIG.py --skip-peak   # a plug-in
    python -m danet benchmark-inference --reference [--models danet prenet prn] [--threads 1 2]
        [--repeats 7] [--out F.json]
    python -m danet benchmark-inference --options compile bf16 onnxruntime [--models danet]
        [--shapes 320x480] [--threads 1] [--out F.json]
    python -m danet benchmark-inference --profile [--models prenet] [--shapes 320x480] [--threads 1]

``--reference``: ours ÷ the authors' code re-stated (DANet; the PReNet family's ``networks.py``
classes on their released weights), per image, interleaved between two worker processes, with
page faults per call, the load average and the fraction of the matmul rate
(``danet/benchmarks/ab.py``).
``--options``: each engine option against the fp32 engine. ``--profile``: self time per op of our
forward and the reference's.
Logic: ``danet/benchmarks/inference.py``; ``tools/benchmark_inference.py`` is a shim. The
``--reference`` weights default to files under ``$DANET_SHARED/data`` (else ``../shared/data``).
"""
import argparse
from pathlib import Path

from danet.benchmarks.ab import REFERENCE_MODELS
from danet.benchmarks.inference import (
    inference_benchmark,
    options_benchmark,
    profile_benchmark,
    reference_benchmark,
)
from danet.benchmarks.latency import GENERATORS, is_config
from danet.benchmarks.options import OPTIONS
from danet.utils.shared import shared_data

# --reference weights per model: DANet's golden file, the PReNet family's released files
RELEASED = {'prenet': 'Rain100L/PReNet6', 'prn': 'Rain100L/PRN6', 'prenet_r': 'Rain100L/PReNet6_r',
            'prn_r': 'Rain100L/PRN6_r', 'prenet_lstm': 'Ablation/PReNet6_LSTM',
            'prenet_gru': 'Ablation/PReNet6_GRU', 'prenet_x': 'Ablation/PReNet6_x'}


def reference_weights(model: str) -> Path:
    """``--reference``/``--profile`` weights of ``model`` under :func:`shared_data`."""
    if model == 'danet':
        return shared_data() / 'reference_outputs/danet_official_random.pth'
    return shared_data() / 'released_weights/PReNet' / RELEASED[model] / 'net_latest.pth'


def _shape(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'shape must look like 256x256, got {text!r}') from None
    return h, w


def build_parser(parser=None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog='python -m danet benchmark-inference',
                                               description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+',
                        help=f'generators ({" ".join(sorted(GENERATORS))}) or config files '
                             "(CONFIG.py or danet::PATH, a plug-in's included: its "
                             'model.generator); default: danet mprnet; with --reference: danet '
                             f'(those with a re-stated reference: {" ".join(REFERENCE_MODELS)})')
    parser.add_argument('--shapes', nargs='+', type=_shape,
                        help='HxW (default: 256x256 320x480; with --reference also 512x512)')
    parser.add_argument('--warmup', type=int, help='untimed calls first (default 1; 2 with '
                                                   '--reference)')
    parser.add_argument('--repeats', type=int, help='timed calls (default 5; 7 with --reference)')
    parser.add_argument('--compile', action='store_true', help='also time torch.compile')
    parser.add_argument('--peak-shape', type=_shape, default=(3072, 2048),
                        help='image for the DANet peak-memory run (HxW)')
    parser.add_argument('--peak-tile', type=int, default=1024, help='0: untiled')
    parser.add_argument('--skip-peak', action='store_true')
    parser.add_argument('--out', help='JSON file for the full report')
    parser.add_argument('--reference', action='store_true',
                        help="ours vs the authors' code re-stated, interleaved per image")
    parser.add_argument('--threads', nargs='+', type=int, default=[1, 2],
                        help='torch threads of the --reference workers')
    parser.add_argument('--weights', type=Path,
                        help='official-format state dict for --reference/--profile (default: '
                             "DANet's golden file; the PReNet family's released files)")
    parser.add_argument('--options', nargs='+', choices=OPTIONS,
                        help='time these engine options against the fp32 engine, interleaved '
                             '(first --threads value; default shape 320x480)')
    parser.add_argument('--profile', action='store_true',
                        help='self time per op, ours vs the reference (first model, shape and '
                             '--threads)')
    return parser


def run(a) -> None:
    models = a.models or (['danet'] if a.reference or a.profile else ['danet', 'mprnet'])
    wrong = [m for m in models if m not in GENERATORS and not is_config(m)]
    if wrong:
        raise ValueError(f'--models: unknown {", ".join(wrong)}; choose from '
                         f'{", ".join(sorted(GENERATORS))} or give a config file (.py)')
    unknown = [m for m in models if m not in REFERENCE_MODELS]
    if (a.reference or a.profile) and unknown:
        raise ValueError(f'--reference/--profile: no re-stated reference for '
                         f'{", ".join(unknown)}; choose from {", ".join(REFERENCE_MODELS)}')
    if a.profile:
        profile_benchmark(a.weights or reference_weights(models[0]), a.shapes, a.threads[0],
                          a.repeats, a.out, models[0])
    elif a.options:
        options_benchmark(models, a.options, a.shapes, a.threads[0], a.warmup, a.repeats, a.out)
    elif a.reference:
        weights = a.weights or {m: reference_weights(m) for m in models}
        reference_benchmark(weights, a.shapes, a.threads, a.warmup, a.repeats, a.out, models)
    else:
        inference_benchmark(models, a.shapes, a.warmup, a.repeats, a.compile,
                            None if a.skip_peak else a.peak_shape, a.peak_tile, a.out)


def main(argv=None) -> None:
    return run(build_parser().parse_args(argv))
