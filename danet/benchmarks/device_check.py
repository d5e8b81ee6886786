"""The GPU check (``tools/device_check.py``): every GPU claim of the platform measured in one run
of a few minutes, written as one JSON file and one Markdown page.

Parts, run in the order of ``PARTS`` (each ``pass``/``fail`` against a stated threshold,
``measured`` where there is none, ``skip`` with its reason, or ``error`` with the traceback's
tail; one part's error never stops the others; both files are rewritten atomically after every
part):

* ``golden``: DANet, MPRNet, PReNet, PCNet in strict fp32 on CUDA against the CPU golden outputs
  (max |diff| <= ``GOLDEN_TOLERANCE``);
* ``train``: the training step (batch 16, 256²) in fp32 and with AMP fp16 on synthetic pairs:
  steps/s and the loss curves, which must agree (``curves_agree``);
* ``loader``: the packed-data loader's crops/s with the config's workers against the fp32
  step's samples/s (``feed_verdict``: is the GPU fed?);
* ``ddp``: one-process DDP over NCCL through ``python -m torch.distributed.run -m danet train``
  for 20 iterations;
* ``memory``: peak allocated GPU memory of DANet at 3072×2048, untiled and tiled;
* ``latency``: DANet vs MPRNet per variant and shape, fp32 / fp16 autocast / channels-last /
  compile, medians of calls interleaved between the two.
"""
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from mmengine.registry import init_default_scope

from danet.benchmarks import device_parts as parts
from danet.config_refs import shipped_config
from danet.registry import SCOPE
from danet.utils.devices import unavailable
from danet.utils.fileio import atomic_write_json, atomic_write_text
from danet.utils.shared import shared_data

PARTS = ('golden', 'train', 'loader', 'ddp', 'memory', 'latency')
"""Run order: the quick checks first, latency (four ``torch.compile`` runs) last, so a run cut
short still has the others on its page."""
TARGET_S = 480   # the whole check must fit in 8 minutes on one H200


class Skip(Exception):
    """The part cannot run here; the message says why."""


@dataclass
class Settings:
    """Sizes of the check; the defaults are the full GPU check (under 8 minutes on one H200)."""
    device: str = 'cuda'
    shared_data: Path = field(default_factory=shared_data)
    tests_data: Path = Path('tests/data')   # the clone's goldens: run from the clone's root
    config: Path = field(default_factory=lambda: shipped_config(
        'danet::danet/danet_1xb16-1000e_rain13k.py'))
    shapes: list = field(default_factory=lambda: [(256, 256), (320, 480)])
    variants: tuple = parts.VARIANTS
    warmup: int = 3
    repeats: int = 20
    batch: int = 16
    crop: int = 256
    steps: int = 200
    ddp_iters: int = 20
    peak_shape: tuple = (3072, 2048)
    peak_tile: int = 1024
    loader_crops: int = 800


def _need_cuda(settings: Settings) -> None:
    if not settings.device.startswith('cuda'):
        raise Skip(f'device is {settings.device!r}, not CUDA')
    why = unavailable(torch.device(settings.device))
    if why:
        raise Skip(f'no CUDA device: {why}')


def check_golden(s: Settings, done: dict) -> dict:
    _need_cuda(s)
    rows = parts.compare_golden(parts.golden_cases(s.shared_data, s.tests_data), s.device)
    return dict(status='pass' if all(r['passed'] for r in rows) else 'fail', rows=rows,
                summary=f'max |diff| {max(r["max_abs_diff"] for r in rows):.2e} '
                        f'(tolerance {parts.GOLDEN_TOLERANCE:g})')


def check_latency(s: Settings, done: dict) -> dict:
    _need_cuda(s)
    rows = parts.latency_rows(s.shapes, s.variants, s.device, s.warmup, s.repeats,
                              progress=lambda row: print(f'  latency {row}', flush=True))
    ratios = ', '.join(f'{r["variant"]} {r["shape"][0]}x{r["shape"][1]} '
                       f'{100 * r["danet_over_mprnet"]:.1f}%' for r in rows)
    return dict(status='measured', rows=rows,
                summary=f'DANet time as a share of MPRNet\'s: {ratios} (the seed: 52.6%)')


def check_train(s: Settings, done: dict) -> dict:
    _need_cuda(s)
    curves = {amp: parts.train_curve(str(s.config), s.device, amp, s.batch, s.crop, s.steps)
              for amp in (False, True)}
    agree = parts.curves_agree(curves[False]['losses'], curves[True]['losses'])
    rows = [dict(precision='AMP fp16' if amp else 'fp32', steps_per_s=c['steps_per_s'],
                 samples_per_s=c['steps_per_s'] * s.batch, first_loss=c['losses'][0],
                 last_loss=c['losses'][-1]) for amp, c in curves.items()]
    return dict(status='pass' if agree['passed'] else 'fail', rows=rows, agreement=agree,
                losses={r['precision']: c['losses'] for r, c in zip(rows, curves.values(),
                                                                     strict=True)},
                summary=f'AMP {rows[1]["steps_per_s"] / rows[0]["steps_per_s"]:.2f}x fp32 '
                        f'steps/s; window means differ by at most '
                        f'{100 * agree["max_rel_window_diff"]:.1f}% '
                        f'(tolerance {100 * agree["tolerance"]:.0f}%)')


def check_ddp(s: Settings, done: dict) -> dict:
    _need_cuda(s)
    if not torch.distributed.is_nccl_available():
        raise Skip('this PyTorch has no NCCL')
    with tempfile.TemporaryDirectory() as tmp:
        h5 = _synthetic_pack(Path(tmp), pairs=s.ddp_iters * 4 + 4, size=64)
        work = Path(tmp) / 'run'
        options = [f'train_dataloader.dataset.ann_file={h5}',
                   f'val_dataloader.dataset.ann_file={h5}',
                   'train_dataloader.batch_size=4', 'train_dataloader.num_workers=2',
                   'train_dataloader.dataset.pipeline.0.crop_size=64', 'train_cfg.max_epochs=1',
                   'default_hooks.logger.interval=1']
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=1',
                               f'--master_port={_free_port()}', '-m', 'danet', 'train',
                               str(s.config), '--launcher', 'pytorch', '--work-dir', str(work),
                               '--cfg-options', *options], capture_output=True, text=True,
                              timeout=300)
        seconds = time.perf_counter() - start
        scalars = work / 'logs' / 'vis_data' / 'scalars.json'
        iters = [json.loads(line)['iter'] for line in (scalars.read_text().splitlines()
                                                       if scalars.is_file() else [])
                 if '"iter"' in line and '"loss"' in line]
    passed = proc.returncode == 0 and max(iters, default=0) >= s.ddp_iters
    return dict(status='pass' if passed else 'fail', returncode=proc.returncode,
                iterations=max(iters, default=0), seconds=seconds,
                stderr_tail=proc.stderr[-2000:] if not passed else '',
                summary=f'exit {proc.returncode}, {max(iters, default=0)} iterations logged in '
                        f'{seconds:.0f} s')


def check_memory(s: Settings, done: dict) -> dict:
    _need_cuda(s)
    rows = [parts.peak_memory('danet', s.peak_shape, tile, s.device)
            for tile in (None, s.peak_tile)]
    return dict(status='measured', rows=rows, summary='; '.join(
        f'tile {r["tile"] or "none"}: ' + ('out of memory' if r['oom'] else
                                          f'{r["peak_gib"]:.2f} GiB') for r in rows))


def check_loader(s: Settings, done: dict) -> dict:
    _need_cuda(s)
    train = done.get('train', {})
    if train.get('status') not in ('pass', 'fail'):
        raise Skip('needs the step rate of the train part, which did not run')
    from mmengine.config import Config

    from danet.benchmarks.loader import crops_per_second
    from danet.datasets.h5_dataset import H5PairedDataset
    workers = Config.fromfile(str(s.config)).train_dataloader.num_workers
    with tempfile.TemporaryDirectory() as tmp:
        h5 = _pack_rain100l(s.shared_data, Path(tmp))
        dataset = H5PairedDataset(str(h5), split='train', pipeline=[
            dict(type='PairedRandomCrop', crop_size=s.crop), dict(type='PairedFlipRot8')])
        rate = crops_per_second(dataset, s.loader_crops, workers, s.batch)
    verdict = parts.feed_verdict(rate, train['rows'][0]['samples_per_s'])
    return dict(status='pass' if verdict['fed'] else 'fail', workers=workers, **verdict,
                summary=f'{workers} workers: {rate:.0f} crops/s against '
                        f'{verdict["step_samples_per_s"]:.0f} samples/s of the fp32 step: '
                        f'{verdict["verdict"]}')


CHECKS = dict(golden=check_golden, latency=check_latency, train=check_train, ddp=check_ddp,
              memory=check_memory, loader=check_loader)


def _synthetic_pack(root: Path, pairs: int, size: int) -> Path:
    from PIL import Image

    from danet.datasets.pack import pack
    src = root / 'pairs'
    for i, batch in enumerate(parts.synthetic_pairs(1, size, pairs)):
        for folder, image in (('rainy', batch['inputs'][0]),
                              ('clean', batch['data_samples'][0].gt_img)):
            (src / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image.permute(1, 2, 0).numpy()).save(src / folder / f'{i:03d}.png')
    pack(src, root / 'pairs.h5', val_fraction=4 / pairs, workers=1)
    return root / 'pairs.h5'


def _pack_rain100l(shared_data: Path, root: Path) -> Path:
    from danet.datasets.pack import pack
    source = shared_data / 'Rain100L'
    if not source.is_dir():
        return _synthetic_pack(root, pairs=100, size=480)
    pack(source, root / 'Rain100L.h5', val_fraction=0.1, workers=4)
    return root / 'Rain100L.h5'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def machine() -> dict:
    cuda = torch.cuda.is_available()
    return dict(host=socket.gethostname(), python=platform.python_version(),
                torch=torch.__version__, cuda=torch.version.cuda if cuda else None,
                gpu=torch.cuda.get_device_name(0) if cuda else None,
                cudnn_tf32=torch.backends.cudnn.allow_tf32,
                cpus=os.cpu_count(), load=os.getloadavg()[0])


def run_device_check(out_dir: Path, settings: Settings | None = None,
                     names=PARTS, progress=print) -> dict:
    """Run the parts ``names`` in order; write ``device_check.json`` and ``device_check.md``
    into ``out_dir`` after each; return the report."""
    settings = settings or Settings()
    init_default_scope(SCOPE)
    unknown = sorted(set(names) - set(PARTS))
    if unknown:
        raise ValueError(f'unknown part(s) {", ".join(unknown)}; choose from {", ".join(PARTS)}')
    out_dir = Path(out_dir)
    report = dict(started=time.strftime('%Y-%m-%d %H:%M:%S %Z'), machine=machine(),
                  settings={k: str(v) if isinstance(v, Path) else v
                            for k, v in asdict(settings).items()}, parts={})
    start = time.perf_counter()
    for name in (n for n in PARTS if n in names):
        part_start = time.perf_counter()
        try:
            result = CHECKS[name](settings, report['parts'])
        except Skip as why:
            result = dict(status='skip', summary=str(why))
        except Exception as err:   # one part's failure must not hide the others' results
            result = dict(status='error', summary=f'{type(err).__name__}: {err}'[:300],
                          traceback=traceback.format_exc()[-3000:])
        result['seconds'] = time.perf_counter() - part_start
        report['parts'][name] = result
        report['seconds'] = time.perf_counter() - start
        progress(f'{name:8} {result["status"]:8} {result["seconds"]:6.1f} s  {result["summary"]}')
        write_report(report, out_dir)
    return report


def write_report(report: dict, out_dir: Path) -> None:
    atomic_write_json(out_dir / 'device_check.json', report)
    atomic_write_text(out_dir / 'device_check.md', markdown(report))


def _cell(value) -> str:
    if isinstance(value, float):
        return f'{value:.3g}' if abs(value) < 1e-2 or abs(value) >= 1e4 else f'{value:.3f}'
    if isinstance(value, list | tuple):
        return 'x'.join(map(str, value))
    return str(value)


def _table(rows: list[dict]) -> list[str]:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    lines = ['| ' + ' | '.join(keys) + ' |', '|' + '---|' * len(keys)]
    lines += ['| ' + ' | '.join(_cell(row.get(k, '')) for k in keys) + ' |' for row in rows]
    return lines


def markdown(report: dict) -> str:
    m, seconds = report['machine'], report.get('seconds', 0)
    lines = ['# GPU check', '',
             f'Run {report["started"]} on {m["host"]}: {m["gpu"] or "no GPU"}, torch {m["torch"]}'
             f' (CUDA {m["cuda"]}), {m["cpus"]} CPUs, load {m["load"]:.2f} at start; '
             f'{seconds:.0f} s in all (target: under {TARGET_S} s'
             f'{"" if seconds < TARGET_S else ", MISSED"}). Written by `tools/device_check.py` '
             '(docs/device_check.md says what each part checks).', '',
             '| part | status | seconds | result |', '|---|---|---|---|']
    for name, part in report['parts'].items():
        lines.append(f'| {name} | {part["status"]} | {part["seconds"]:.1f} | '
                     f'{part["summary"].replace("|", "/")} |')
    for name, part in report['parts'].items():
        if part.get('rows'):
            lines += ['', f'## {name}', '', *_table(part['rows'])]
        if part.get('traceback'):
            lines += ['', f'## {name}: error', '', '```', part['traceback'].rstrip(), '```']
    return '\n'.join(lines) + '\n'
