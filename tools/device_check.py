"""The GPU check: golden outputs, latency, training step, DDP, peak memory and loader, one run.

    python tools/device_check.py [--out-dir work_dirs/device_check] [--parts golden train ...]
        [--variants fp32 fp16 channels_last compile]

Writes ``device_check.json`` and ``device_check.md`` into ``--out-dir`` (rewritten after every
part). On a machine without CUDA every part is skipped with its reason. The parts and their
thresholds: ``docs/device_check.md``; logic: ``danet/benchmarks/device_check.py``.
Exit code 1 when a part fails or errs, 0 otherwise (skips included).
"""
import argparse

from danet.benchmarks.device_check import PARTS, Settings, run_device_check
from danet.benchmarks.device_parts import VARIANTS
from danet.utils.cli import run_main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out-dir', default='work_dirs/device_check')
    parser.add_argument('--parts', nargs='+', choices=PARTS, default=list(PARTS),
                        help='the parts to run, in their fixed order (default: all)')
    parser.add_argument('--device', default='cuda', help='CUDA device to check (cuda, cuda:1)')
    parser.add_argument('--variants', nargs='+', choices=VARIANTS, default=list(VARIANTS),
                        help='latency variants (default: all; compile is the slow one)')
    args = parser.parse_args(argv)
    settings = Settings(device=args.device, variants=tuple(args.variants))
    report = run_device_check(args.out_dir, settings, args.parts)
    print(f'wrote {args.out_dir}/device_check.json and device_check.md')
    return int(any(p['status'] in ('fail', 'error') for p in report['parts'].values()))


if __name__ == '__main__':
    run_main(main)
