"""Every reader of a damaged or tampered packed file gives one ``error:`` line naming it and
exit 2 (``verify``: 1 for a mismatch), never a traceback; ``verify`` checks every manifest
column against what is stored; a byte-flip sweep over the whole file."""
import contextlib
import io
import json
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from danet.datasets import h5format as fmt
from danet.datasets.h5_dataset import H5PairedDataset
from danet.datasets.pack import pack
from data_tools import __main__ as commands
from data_tools.__main__ import main

READERS = ('verify', 'inspect', 'card', 'list')


@pytest.fixture(scope='module')
def packed(tmp_path_factory, write_pairs_module):
    """A 4-pair set with a stored split, packed as the command line records it."""
    root = tmp_path_factory.mktemp('damaged')
    src = write_pairs_module(root / 'src', [f'{k}.png' for k in range(4)], size=(20, 24))
    out = root / 'good.h5'
    pack(src, out, workers=1, val_fraction=0.5, split_seed=3,
         command=f'danet-data pack {src} {out} --val-fraction 0.5 --split-seed 3')
    return out


@pytest.fixture(scope='module')
def write_pairs_module():
    def write(root, names, size):
        from PIL import Image
        rng = np.random.default_rng(0)
        for sub in ('rainy', 'clean'):
            (root / sub).mkdir(parents=True)
            for name in names:
                Image.fromarray(rng.integers(0, 256, (*size, 3), np.uint8)).save(root / sub / name)
        return root
    return write


def _run(argv) -> tuple[int, str, str]:
    """``data_tools`` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def _one_error_line(err: str, path) -> bool:
    lines = [line for line in err.splitlines() if line.startswith('error:')]
    return len(lines) == 1 and str(path) in lines[0] and 'Traceback' not in err


def _load_all(path) -> None:
    dataset = H5PairedDataset(str(path))
    try:
        for k in range(len(dataset)):
            dataset[k]
    finally:
        dataset.packed.close()


def _copy(packed, tmp_path, name='bad.h5'):
    folder = tmp_path / 'sets'
    folder.mkdir(exist_ok=True)
    return shutil.copy(packed, folder / name)


def _flip(path, offset: int, count: int = 16) -> None:
    with open(path, 'r+b') as f:
        f.seek(offset)
        data = f.read(count)
        f.seek(offset)
        f.write(bytes(b ^ 0xFF for b in data))


def test_flipped_superblock_is_one_line_naming_the_file_for_every_reader(packed, tmp_path):
    bad = _copy(packed, tmp_path)
    _flip(bad, 0)  # the HDF5 signature: no reader can open it
    for command in ('verify', 'inspect', 'card'):
        code, _, err = _run([command, bad])
        assert code == 2 and _one_error_line(err, bad), (command, err)
    good = shutil.copy(packed, bad.parent / 'good.h5')
    code, out, err = _run(['list', bad.parent])
    assert code == 0 and 'Traceback' not in err
    rows = out.splitlines()
    assert any(str(bad) in r and 'ERROR' in r for r in rows)
    assert any(str(good) in r and 'rainy=4' in r for r in rows)  # the listing goes on
    code, _, err = _run(['leaks', good, bad])
    assert code == 2 and _one_error_line(err, bad), err
    with pytest.raises(fmt.DamagedFileError, match=str(bad)):
        _load_all(bad)


def test_list_names_a_sharded_set_with_a_missing_shard(tmp_path, write_pairs_module):
    src = write_pairs_module(tmp_path / 'src', [f'{k}.png' for k in range(4)], size=(16, 16))
    index = tmp_path / 'sets' / 'sharded.h5'
    pack(src, index, workers=1, shard_size=2)
    shards = [s['file'] for s in fmt.PackedFile(index).shards]
    (index.parent / shards[1]).unlink()
    code, out, _ = _run(['list', index.parent])
    assert code == 0 and out.splitlines() == [
        f'{index}  ERROR {index}: 1 shard(s) missing beside the index: {shards[1]}']


@pytest.mark.parametrize('tamper, expect', [
    (lambda f: f['manifest/rainy/clean'].__setitem__(0, 999), 'clean index'),
    (lambda f: f.attrs.__delitem__('content_hash'), 'content_hash'),
    (lambda f: f.attrs.__setitem__('num_rainy', 7), 'num_rainy'),
    (lambda f: f['manifest/split'].__setitem__(0, 5), 'split labels'),
    (lambda f: (f.__delitem__('card'), f.create_dataset('card', data='[1]')), 'card'),
    (lambda f: (f.__delitem__('card'), f.create_dataset('card', data='{}')), 'card'),
    (lambda f: _edit_card(f, lambda c: {**c, 'sizes': [1]}), 'card'),
    (lambda f: _edit_card(f, lambda c: {**c, 'psnr_y': 'high'}), 'card'),
])
def test_inconsistent_tables_are_refused_by_every_reader(packed, tmp_path, tamper, expect):
    bad = _copy(packed, tmp_path)
    with h5py.File(bad, 'r+') as f:
        tamper(f)
    for command in ('verify', 'inspect', 'card'):
        code, _, err = _run([command, bad])
        assert code == 2 and _one_error_line(err, bad) and expect in err, (command, err)
    if expect != 'card':
        with pytest.raises(fmt.DamagedFileError, match=expect):
            _load_all(bad)


def _edit_card(f, change) -> None:
    card = change(json.loads(f['card'][()]))
    del f['card']
    f.create_dataset('card', data=json.dumps(card))


def _verify_problems(bad) -> str:
    code, out, err = _run(['verify', bad])
    assert code == 1 and 'Traceback' not in err, err
    return out


def test_verify_checks_the_shape_column_against_the_pixels(packed, tmp_path):
    bad = _copy(packed, tmp_path)
    with h5py.File(bad, 'r+') as f:
        f['manifest/rainy/shape'][1] = [24, 20]
    out = _verify_problems(bad)
    assert 'lq/000001' in out and 'shape [20, 24] but the manifest says [24, 20]' in out


def test_verify_checks_the_split_labels_against_the_recorded_seed(packed, tmp_path):
    bad = _copy(packed, tmp_path)
    with h5py.File(bad, 'r+') as f:
        labels = f['manifest/split'][()]
        f['manifest/split'][...] = 1 - labels  # counts and backgrounds still consistent
    assert '4 label(s) differ from --val-fraction 0.5 --split-seed 3' in _verify_problems(bad)


def test_verify_checks_names_and_the_card_against_the_manifest(packed, tmp_path):
    bad = _copy(packed, tmp_path)
    with h5py.File(bad, 'r+') as f:
        f['manifest/rainy/name'][2] = 'renamed.png'
    assert 'content_hash' in _verify_problems(bad)
    bad = _copy(packed, tmp_path, 'card.h5')
    with h5py.File(bad, 'r+') as f:
        card = f['card'][()].decode().replace('"paired": 4', '"paired": 3')
        del f['card']
        f.create_dataset('card', data=card)
    assert 'card paired: 3 but the manifest gives 4' in _verify_problems(bad)


def test_a_dataloader_worker_reading_a_damaged_image_gives_the_one_line(packed, tmp_path):
    bad = _copy(packed, tmp_path)
    with h5py.File(bad, 'r+') as f:
        del f['lq/000002']  # opens fine; the worker fails when it reads the image
    loader = torch.utils.data.DataLoader(H5PairedDataset(str(bad)), batch_size=1,
                                         num_workers=2, collate_fn=lambda batch: batch)
    with pytest.raises(fmt.DamagedFileError) as caught:
        list(loader)
    message = str(caught.value)
    assert '\n' not in message and message.startswith(f'{bad}: damaged packed file, cannot '
                                                      'read lq/000002')


@pytest.mark.slow
def test_real_commands_give_one_line_and_exit_2(packed, tmp_path, write_pairs_module):
    bad = _copy(packed, tmp_path)
    _flip(bad, 2560)  # the offset of the issue: the root group's heap
    done = subprocess.run([sys.executable, '-m', 'data_tools', 'verify', str(bad)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and _one_error_line(done.stderr, bad), done.stderr
    src = write_pairs_module(tmp_path / 'src', ['a.png'], size=(16, 16))
    done = subprocess.run([sys.executable, '-m', 'data_tools', 'pack', str(src),
                           str(tmp_path / 'out.h5'), '--exclude-overlap-with', str(bad)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and _one_error_line(done.stderr, bad), done.stderr
    assert not (tmp_path / 'out.h5').exists()


def _content(path, keys) -> dict:
    with h5py.File(path, 'r') as f:
        return {k: np.asarray(f[k][()]).tolist() for k in keys}


@pytest.mark.slow
def test_bytes_flipped_anywhere_never_give_a_traceback(packed, tmp_path):
    """16 bytes flipped at 200 offsets spread over the file's non-zero 16-byte blocks (its
    metadata, tables, card, fingerprints and pixels; the zero padding of preallocated chunks
    holds nothing): each reader exits 0, 1 (verify: mismatch) or 2 with one error line, and
    verify says OK only where images and manifest read back unchanged. The readers run in one
    child process (:func:`sweep`), so a signal would show as its exit status, with its data
    segment capped at 3 GiB (``RLIMIT_DATA``: shared libraries do not count): a flipped heap
    length makes HDF5 allocate gigabytes before it fails (4.8 GB peak for one offset, 12 s of
    zeroing); capped, the allocation fails at once and the reader still gives its one line."""
    def cap():
        resource.setrlimit(resource.RLIMIT_DATA, (3 << 30, 3 << 30))
    done = subprocess.run([sys.executable, __file__, str(packed), str(tmp_path / 'sets')],
                          capture_output=True, text=True, cwd=Path(__file__).parents[2],
                          preexec_fn=cap)
    assert done.returncode == 0, done.stderr[-3000:]  # no assertion failed, no signal
    codes = json.loads(done.stdout.splitlines()[-1])
    assert {'verify 0', 'verify 1', 'verify 2', 'inspect 2', 'load 2'} <= set(codes), codes


def sweep(packed: Path, folder: Path) -> dict:
    """Flip, read with every reader, check; return how often each exit code came."""
    data = np.frombuffer(packed.read_bytes(), np.uint8)
    blocks = np.flatnonzero(data[:len(data) // 16 * 16].reshape(-1, 16).any(axis=1)) * 16
    offsets = blocks[np.linspace(0, len(blocks) - 1, 200).astype(int)]
    keys = []
    with h5py.File(packed, 'r') as f:
        f.visititems(lambda k, v: keys.append(k) if isinstance(v, h5py.Dataset) and
                     k.split('/')[0] in ('lq', 'gt', 'manifest') else None)
    original, codes = _content(packed, keys), {}
    parser = commands.build_parser()
    commands.build_parser = lambda: parser  # built once, not 800 times
    folder.mkdir(parents=True)
    for offset in offsets:
        for old in folder.glob('*.h5'):
            old.unlink()  # a new name each time: HDF5 shares handles of one path
        bad = Path(shutil.copy(packed, folder / f'flip{offset}.h5'))
        _flip(bad, int(offset))
        for command in READERS:
            code, _, err = _run([command, folder if command == 'list' else bad])
            codes[f'{command} {code}'] = codes.get(f'{command} {code}', 0) + 1
            assert code in ((0, 1, 2) if command == 'verify' else (0, 2)), (offset, command)
            assert 'Traceback' not in err and (code != 2 or _one_error_line(err, bad)), \
                (offset, command, err)
            if command == 'verify' and code == 0:
                assert _content(bad, keys) == original, offset
        try:
            _load_all(bad)
            code = 0
        except fmt.DamagedFileError as err:
            assert str(bad) in str(err) and '\n' not in str(err)
            code = 2
        codes[f'load {code}'] = codes.get(f'load {code}', 0) + 1
    return codes


if __name__ == '__main__':
    print(json.dumps(sweep(Path(sys.argv[1]), Path(sys.argv[2]))))
