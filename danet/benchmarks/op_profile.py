"""Where a forward's time goes, ours against the reference: ``torch.profiler`` self time per op.

Each side runs in its own process, set up as in ``danet.benchmarks.ab`` (ours: the memory
policy and the ``InferenceEngine`` on the converted weights; the reference: ``ReferenceDANet``
or ``ReferencePReNet`` under ``no_grad`` with glibc's defaults), and profiles ``repeats``
forwards of one random image after a warm-up. ``compare_profiles`` lists the ops by time on
either side, with the convolutions (every op whose name holds ``conv``) summed. Used by
``tools/benchmark_inference.py --profile``.
"""
import json
import os
import subprocess
import sys

import torch


def profile_side(side: str, shape, threads: int, weights_path: str, repeats: int = 3,
                 model: str = 'danet') -> dict:
    """``{'total_ms': ..., 'ops': {name: [ms per forward, calls per forward]}}`` (self CPU)."""
    from mmengine.registry import init_default_scope

    from danet.utils.memory import keep_freed_memory
    torch.set_num_threads(threads)
    init_default_scope('danet')
    weights = torch.load(weights_path, map_location='cpu', weights_only=True)
    weights = weights.get('state_dict', weights)
    if side == 'ours':
        from danet.benchmarks.ab import _model, _prenet_model
        from danet.engine.inference import InferenceEngine
        keep_freed_memory()
        forward = InferenceEngine(_model(weights) if model == 'danet'
                                  else _prenet_model(weights, model)).final
    else:
        from danet.benchmarks.reference import ReferenceDANet, ReferencePReNet
        from danet.models.base import generators
        net = (ReferenceDANet(weights) if model == 'danet'
               else ReferencePReNet(weights, generators()[model]))

        def forward(x):
            with torch.no_grad():
                return net(x)[0]
    x = torch.rand(1, 3, *shape, generator=torch.Generator().manual_seed(0))
    forward(x)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(repeats):
            forward(x)
    events = prof.key_averages()
    ops = {e.key: [e.self_cpu_time_total / 1000 / repeats, e.count / repeats] for e in events}
    return dict(total_ms=sum(ms for ms, _ in ops.values()), ops=ops)


def compare_profiles(weights: str, shape, threads: int = 1, repeats: int = 3,
                     model: str = 'danet') -> dict:
    """Both sides' profiles, each from a fresh worker process."""
    result = {}
    for side in ('ours', 'reference'):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        if side == 'reference':
            env['DANET_MALLOC'] = 'default'
        proc = subprocess.run(
            [sys.executable, '-m', 'danet.benchmarks.op_profile', side, str(shape[0]),
             str(shape[1]), str(threads), weights, str(repeats), model],
            env=env, capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f'profile of {side} failed:\n{proc.stderr[-2000:]}')
        result[side] = json.loads(proc.stdout.splitlines()[-1])
    return result


def format_profiles(result: dict, top: int = 15) -> str:
    ours, ref = result['ours']['ops'], result['reference']['ops']
    names = sorted(set(ours) | set(ref), key=lambda k: -max(ours.get(k, [0])[0],
                                                           ref.get(k, [0])[0]))
    lines = [f'{"op (self CPU time per forward)":40} {"ours ms":>9} {"calls":>6} '
             f'{"ref ms":>9} {"calls":>6}']
    for name in names[:top]:
        a, b = ours.get(name, [0, 0]), ref.get(name, [0, 0])
        lines.append(f'{name[:40]:40} {a[0]:9.1f} {a[1]:6.0f} {b[0]:9.1f} {b[1]:6.0f}')
    conv = [sum(v[0] for k, v in side.items() if 'conv' in k) for side in (ours, ref)]
    lines.append(f'{"all convolution ops":40} {conv[0]:9.1f} {"":6} {conv[1]:9.1f}')
    lines.append(f'{"total":40} {result["ours"]["total_ms"]:9.1f} {"":6} '
                 f'{result["reference"]["total_ms"]:9.1f}')
    return '\n'.join(lines)


if __name__ == '__main__':
    side, h, w, n, path, reps, name = sys.argv[1:8]
    print(json.dumps(profile_side(side, (int(h), int(w)), int(n), path, int(reps), name)))
