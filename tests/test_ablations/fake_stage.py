"""A stand-in for tools/train.py, test.py and count_macs.py: deterministic, resumable, fast.

    fake_stage.py train RUN_DIR [--resume] [--cfg-options k=v ...]
    fake_stage.py test RUN_DIR CHECKPOINT TESTSET [--cfg-options ...]
    fake_stage.py macs RUN_DIR

``train`` runs ``iters`` steps (``sleep`` seconds each), checkpointing after every step, and
refuses a non-empty work dir without ``--resume``; ``fail=True`` in the options makes it fail.
``FAKE_STAGE_HOLD=N`` (or ``N:RUN_DIR``: only in that run folder) in the environment makes a
training that writes step N then write ``train/held`` (its pid) and wait until it is killed, so
that tests stop, signal or kill a run at a known step, never by the clock (a training resumed
past N does not hold again). ``FAKE_STAGE_MEET=N:DIR`` makes each training wait, before its
first step, until N trainings have reached that point (a file each in DIR): they overlap in time
by construction, or fail after 300 s.
"""
import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from danet.evaluation.results import build_results, write_results  # noqa: E402
from danet.utils.fileio import atomic_write_json, atomic_write_text  # noqa: E402


def options(argv):
    if '--cfg-options' not in argv:
        return {}
    return dict(a.split('=', 1) for a in argv[argv.index('--cfg-options') + 1:])


def train(run_dir: Path, argv):
    opts = options(argv)
    work = run_dir / 'train'
    if work.exists() and any(work.iterdir()) and '--resume' not in argv:
        sys.exit(f'{work} is not empty; pass --resume')
    work.mkdir(parents=True, exist_ok=True)
    meet()
    start, value = 0, int(opts.get('randomness.seed', 0))
    pointer = work / 'last_checkpoint'
    if '--resume' in argv:
        state = json.loads(Path(pointer.read_text()).read_text())
        start, value = state['step'], state['value']
        print(f'resumed from step {start}', flush=True)
    if opts.get('fail') == 'True':
        raise RuntimeError('fake training diverged')
    salt = sum(map(ord, opts.get('model.variant', '')))
    for step in range(start + 1, int(opts.get('iters', 3)) + 1):
        time.sleep(float(opts.get('sleep', 0)))
        value = (value * 31 + step + salt) % 1000003
        ckpt = work / f'iter_{step}.json'
        atomic_write_json(ckpt, {'step': step, 'value': value})
        atomic_write_text(pointer, str(ckpt))
        print(f'step {step} value {value}', flush=True)
        hold(run_dir, step)


HOLD, MEET = 'FAKE_STAGE_HOLD', 'FAKE_STAGE_MEET'


def meet() -> None:
    count, _, folder = os.environ.get(MEET, '').partition(':')
    if not count:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / str(os.getpid())).touch()
    deadline = time.monotonic() + 300   # a failure bound only
    while len(list(Path(folder).iterdir())) < int(count):
        if time.monotonic() > deadline:
            sys.exit(f'only {len(list(Path(folder).iterdir()))} of {count} trainings met')
        time.sleep(0.05)


def hold(run_dir: Path, step: int) -> None:
    at, _, where = os.environ.get(HOLD, '').partition(':')
    if at and step == int(at) and (not where or Path(where).resolve() == run_dir.resolve()):
        atomic_write_text(run_dir / 'train' / 'held', str(os.getpid()))
        while True:
            signal.pause()


def test(run_dir: Path, argv):
    value = json.loads(Path(argv[3]).read_text())['value']
    images = [{'name': f'{i}.png', 'psnr_y': value % 97 + i} for i in range(2)]
    conventions = dict(protocol='mprnet_matlab', crop_border=0, quantize='round', peak=255,
                       y_channel='matlab_rgb2ycbcr_uint8', ssim='gaussian11_sigma1.5_valid')
    write_results(run_dir / 'results' / f'{argv[4]}.json',
                  build_results(argv[4], 'fake', images, conventions, 'cfg', 'data'))


def macs(run_dir: Path, argv):
    atomic_write_json(run_dir / 'complexity.json', {'params': 1, 'macs': 2})


if __name__ == '__main__':
    {'train': train, 'test': test, 'macs': macs}[sys.argv[1]](Path(sys.argv[2]), sys.argv)
