"""The GPU check: golden outputs, latency, training step, DDP, peak memory and loader, one run.

    python tools/device_check.py [--out-dir work_dirs/device_check] [--parts golden train ...]
        [--variants fp32 fp16 channels_last compile] [--device cuda:N] [--allow-skips]

Writes ``device_check.json`` and ``device_check.md`` into ``--out-dir`` (rewritten after every
part; one check at a time per folder). ``--device`` must be ``cuda`` or ``cuda:N`` (anything else:
exit 2 before any work). Where that device is not available every part is skipped with its
reason. The parts and their thresholds: ``docs/device_check.md``; logic:
``danet/benchmarks/device_check.py``. Exit code 0 when every part ran and none failed; 1 when a
part fails or errs; 3 when none failed but some were skipped (not checked is not green), 0 then
with ``--allow-skips``.
"""
import argparse
import re
import sys
from pathlib import Path

from danet.benchmarks.device_check import PARTS, Settings, run_device_check
from danet.benchmarks.device_parts import VARIANTS
from danet.utils.cli import run_main
from danet.utils.output_lock import output_lock

SKIPPED = 3
"""Exit code of a check with skipped parts and no failure: nothing wrong found, nothing green."""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out-dir', type=Path, default=Path('work_dirs/device_check'))
    parser.add_argument('--parts', nargs='+', choices=PARTS, default=list(PARTS),
                        help='the parts to run, in their fixed order (default: all)')
    parser.add_argument('--device', default='cuda', help='CUDA device to check (cuda, cuda:1)')
    parser.add_argument('--variants', nargs='+', choices=VARIANTS, default=list(VARIANTS),
                        help='latency variants (default: all; compile is the slow one)')
    parser.add_argument('--allow-skips', action='store_true',
                        help='exit 0 when parts were skipped (no CUDA here) and none failed')
    args = parser.parse_args(argv)
    if not re.fullmatch(r'cuda(:\d+)?', args.device):
        raise ValueError(f'--device {args.device!r}: the check measures a CUDA device against '
                         'the CPU; give cuda or cuda:N')
    settings = Settings(device=args.device, variants=tuple(args.variants))
    with output_lock(args.out_dir, 'device check'):
        report = run_device_check(args.out_dir, settings, args.parts)
    print(f'wrote {args.out_dir}/device_check.json and device_check.md')
    statuses = [p['status'] for p in report['parts'].values()]
    if any(s in ('fail', 'error') for s in statuses):
        return 1
    skipped = statuses.count('skip')
    if skipped and not args.allow_skips:
        print(f'not green: {skipped} of {len(statuses)} part(s) skipped (see '
              f'{args.out_dir / "device_check.md"}); exit {SKIPPED} (--allow-skips: 0)',
              file=sys.stderr)
        return SKIPPED
    return 0


if __name__ == '__main__':
    run_main(main)
