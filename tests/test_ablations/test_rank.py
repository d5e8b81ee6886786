"""``ablations rank``: options checked first, cache keys from everything that changes a number,
one row per checkpoint, any ``NAME=PATH`` test set, the protocol named in every table."""
import json
import multiprocessing as mp
import os
import signal
import sys
import time
from pathlib import Path

import pytest
import torch

from ablations import rank
from ablations.__main__ import main
from danet.evaluation import protocols
from tests.test_engine.conftest import _write_tiny

SHIPPED = 'danet::danet/danet_smoke-cpu_1xb4-100e_train40.py'
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def ranked(tmp_path_factory):
    """Three random checkpoints of the shipped smoke DANet, a three-pair folder test set and a
    zoo grid of two evaluate-only cells that differ only in checkpoint."""
    from danet.apis.inference import init_model
    root = tmp_path_factory.mktemp('rank')
    _write_tiny(root / 'tiny', 3, 1)
    for seed in range(3):
        torch.manual_seed(seed)
        torch.save({'state_dict': init_model(SHIPPED).state_dict()}, root / f'ckpt{seed}.pth')
    for name, seeds in (('zoo2', (1, 2)), ('zoo1', (1,))):
        cells = ', '.join(f"{{'checkpoint': {str(root / f'ckpt{s}.pth')!r}}}" for s in seeds)
        (root / f'{name}.py').write_text(
            f"base = {SHIPPED!r}\nmode = 'listed'\naxes = {{}}\ninclude = [{cells}]\n"
            "seeds = [0]\ntestsets = ['Rain100L']\nstages = ['test']\n")
    return root


def _rank(root: Path, protocol: str, zoo: str, *extra, testsets=None) -> list[str]:
    return ['rank', SHIPPED, str(root / 'ckpt0.pth'), '--protocol', protocol,
            '--testsets', *(testsets or [f'Tiny={root / "tiny"}']),
            '--zoo', str(root / f'{zoo}.py'), '--work-root', str(root / 'work'),
            '--out', str(root / f'out_{protocol}'), *extra]


def test_the_cache_key_changes_with_everything_that_changes_a_number(ranked, tmp_path,
                                                                     monkeypatch):
    data = tmp_path / 'set'
    _write_tiny(data, 2, 3)
    ckpt = tmp_path / 'ckpt.pth'
    ckpt.write_bytes((ranked / 'ckpt0.pth').read_bytes())

    def key(protocol='prenet_matlab', overrides=None):
        method = rank.Method('m', 'zoo', rank.resolve_config(SHIPPED), ckpt, overrides or {})
        return rank.Evaluations(tmp_path, protocol, {'Set': str(data)}).folder(method, 'Set')[0]

    keys = [key()]
    assert key() == keys[0]                                        # deterministic
    keys.append(key(protocol='basicsr'))                           # protocol
    keys.append(key(overrides={'model.generator.n_feat': 8}))      # resolved config
    ckpt.write_bytes((ranked / 'ckpt1.pth').read_bytes())          # checkpoint content
    keys.append(key())
    image = data / 'clean' / '000.png'
    image.write_bytes((data / 'clean' / '001.png').read_bytes())   # test-set content
    keys.append(key())
    monkeypatch.setattr(protocols, 'METRICS_VERSION', protocols.METRICS_VERSION + 1)
    keys.append(key())                                             # metric code version
    assert len(set(keys)) == len(keys), keys


def test_bad_options_are_refused_before_anything_is_evaluated(ranked, monkeypatch, capsys):
    steps = []
    monkeypatch.setattr(rank, '_step', steps.append)
    with pytest.raises(SystemExit) as done:       # argparse: the choices of --protocol
        main(_rank(ranked, 'foo', 'zoo2'))
    assert done.value.code == 2 and "--protocol: invalid choice: 'foo'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="--protocol 'foo'"):
        rank.rank(SHIPPED, str(ranked / 'ckpt0.pth'), ['Rain100L'], 'foo', ranked / 'o',
                  ranked / 'work', [str(ranked / 'zoo2.py')])
    tiny = str(ranked / 'tiny')
    for testsets, extra, needle in (
            (['../x=' + tiny], [], "--testsets '../x'"),
            ([f'A={tiny}', f'A={tiny}'], [], 'given twice'),
            (['Nowhere=/no/such/dir'], [], 'Nowhere=/no/such/dir: no such file'),
            (['Mine=' + tiny], ['--gt', 'Other=/tmp'], '--gt'),
            (['Mine=' + tiny], ['--zoo', str(ranked / 'absent.py')], 'grid file not found')):
        assert main(_rank(ranked, 'basicsr', 'zoo2', *extra, testsets=testsets)) == 2, needle
        assert needle in capsys.readouterr().err, needle
    assert steps == []


def test_zoo_cells_that_differ_only_in_checkpoint_are_two_methods(ranked):
    methods, to_train = rank.zoo_methods([str(ranked / 'zoo2.py')], ranked / 'work')
    assert to_train == []
    assert [m.label for m in methods] == ['base [ckpt1]', 'base [ckpt2]']


@pytest.mark.slow
def test_rank_evaluates_any_named_set_under_the_asked_protocol(ranked, capsys):
    gt = f'Tiny={ranked / "tiny" / "clean"}'
    assert main(_rank(ranked, 'prenet_matlab', 'zoo2', '--gt', gt)) == 0
    out = ranked / 'out_prenet_matlab'
    table = (out / 'rank.md').read_text()
    assert table.startswith('Protocol: prenet_matlab')
    rows = [line for line in table.splitlines() if line.startswith('| ') and 'method' not in line]
    assert len(rows) == 3 and sum('(candidate)' in r for r in rows) == 1
    assert any('base [ckpt1]' in r for r in rows) and any('base [ckpt2]' in r for r in rows)
    assert (out / 'figure_Tiny.png').is_file()
    first = {r['method']: r for r in _csv(out / 'rank.csv')}

    capsys.readouterr()
    assert main(_rank(ranked, 'basicsr', 'zoo1')) == 0   # cached under prenet_matlab: not reused
    assert '-m danet test' in capsys.readouterr().out
    out = ranked / 'out_basicsr'
    assert (out / 'rank.md').read_text().startswith('Protocol: basicsr')
    second = {r['method']: r for r in _csv(out / 'rank.csv')}
    assert set(second) == {'base', 'danet_smoke-cpu_1xb4-100e_train40 (candidate)'} < \
        set(first) | {'base'}
    assert {r['protocol'] for r in second.values()} == {'basicsr'}
    manifest = json.loads((out / 'rank_manifest.json').read_text())
    for entry in manifest['entries']:
        results = json.loads((Path(entry['dir']) / 'results' / 'Tiny.json').read_text())
        assert results['conventions']['protocol'] == 'basicsr'
    cache = sorted(p.name for p in (ranked / 'work' / 'rank' / 'cache').iterdir())
    entries = [name for name in cache if not name.startswith('.')]
    assert len(entries) == 5   # a whole entry per evaluation, beside its lock and nothing else
    assert cache == sorted(entries + [f'.{name}.lock' for name in entries])


def _csv(path: Path) -> list[dict]:
    import csv
    with open(path) as f:
        return list(csv.DictReader(f))


if __name__ == '__main__':
    sys.exit(pytest.main([__file__]))


def _wait_for(path: Path, timeout: float = 120) -> None:
    """Wait until ``path`` exists (``timeout``: a failure bound, not a timing guess)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f'{path} never appeared'
        time.sleep(0.01)


def _slow_first_evaluator(folder: Path, signals: Path) -> None:
    """Make the entry in a real second process, pausing until the test says go."""
    def make(tmp):
        (tmp / 'result.txt').write_text('half')
        (signals / 'started').touch()
        _wait_for(signals / 'go')
        (tmp / 'result.txt').write_text('first')
    rank.cache_entry(folder, lambda f: (f / 'result.txt').is_file(), make)


def test_a_second_evaluator_of_one_cache_entry_waits_and_reuses_it(tmp_path):
    folder, signals = tmp_path / 'cache' / 'key', tmp_path / 'signals'
    signals.mkdir()
    first = mp.get_context('fork').Process(target=_slow_first_evaluator, args=(folder, signals))
    first.start()
    try:
        _wait_for(signals / 'started')
        assert not folder.exists()   # mid-evaluation: no entry yet, not a half one
        made = []
        got = rank.cache_entry(folder, lambda f: (f / 'result.txt').is_file(),
                               lambda tmp: made.append(tmp),
                               on_wait=lambda: (signals / 'go').touch())
    finally:
        first.join(120)
    assert first.exitcode == 0 and got == folder and made == []
    assert (folder / 'result.txt').read_text() == 'first'
    assert sorted(p.name for p in folder.parent.iterdir()) == ['.key.lock', 'key']


def test_a_cache_entry_appears_whole_or_not_at_all(tmp_path):
    folder = tmp_path / 'cache' / 'key'

    def killed(tmp):   # a real process killed mid-evaluation (its finally blocks never run)
        (tmp / 'result.txt').write_text('half')
        os.kill(os.getpid(), signal.SIGKILL)
    dead = mp.get_context('fork').Process(target=rank.cache_entry,
                                          args=(folder, lambda f: False, killed))
    dead.start()
    dead.join(120)
    assert dead.exitcode == -signal.SIGKILL and not folder.exists()

    def failing(tmp):
        (tmp / 'result.txt').write_text('half')
        raise RuntimeError('step failed')
    with pytest.raises(RuntimeError):
        rank.cache_entry(folder, lambda f: False, failing)
    assert not folder.exists()
    rank.cache_entry(folder, lambda f: (f / 'result.txt').is_file(),
                     lambda tmp: (tmp / 'result.txt').write_text('whole'))
    assert (folder / 'result.txt').read_text() == 'whole'   # the killed one's leftovers gone
    assert sorted(p.name for p in folder.parent.iterdir()) == ['.key.lock', 'key']
