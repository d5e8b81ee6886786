"""Pairing surprises are refused with one line naming the file, never packed silently."""
import os
import shutil

from danet.datasets.image_files import discover
from data_tools.__main__ import main


def _problems(src, layout, list_file=None):
    groups, problems = discover(src, layout, list_file)
    return sum(len(g.rainy) for g in groups), problems


def test_list_file_repeats_and_two_targets_are_problems(tmp_path, write_pairs, capsys):
    src = write_pairs(tmp_path / 'spa', ['a.png', 'b.png', 'c.png'])
    listing = tmp_path / 'list.txt'
    listing.write_text('rainy/a.png clean/a.png\nrainy/b.png clean/b.png\n'
                       '/rainy/a.png  /clean/a.png\nrainy/b.png clean/c.png\n')
    pairs, problems = _problems(src, 'list', listing)
    assert pairs == 2
    assert problems == [(f'{listing}:3', 'repeats the pair of line 1'),
                        (f'{listing}:4', 'rainy/b.png is paired with clean/b.png on line 2 and '
                                         'with clean/c.png here')]
    assert main(['pack', str(src), str(tmp_path / 'o.h5'), '--layout', 'list', '--list',
                 str(listing), '--workers', '1']) == 2
    err = capsys.readouterr().err
    assert 'list.txt:3: repeats the pair of line 1' in err and not (tmp_path / 'o.h5').exists()


def test_list_file_encoding_and_byte_order_marks(tmp_path, write_pairs, capsys):
    src = write_pairs(tmp_path / 'spa', ['a.png', 'é.png'])
    listing = tmp_path / 'latin.txt'
    listing.write_bytes('rainy/é.png clean/é.png\n'.encode('latin-1'))
    assert main(['pack', str(src), str(tmp_path / 'o.h5'), '--layout', 'list', '--list',
                 str(listing)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f'error: {listing}: not UTF-8 text (byte 0xe9 at offset 6); '
                   'save the list as UTF-8')
    listing.write_bytes('\ufeffrainy/é.png clean/é.png\nrainy/a.png \ufeffclean/a.png\n'
                        .encode('utf-8'))   # a leading mark is dropped, one inside refused
    pairs, problems = _problems(src, 'list', listing)
    assert pairs == 1 and problems == [(f'{listing}:2', 'contains a byte-order mark (U+FEFF) '
                                                        'inside the line')]


def test_reside_ambiguous_stems_are_refused(tmp_path, write_pairs):
    src = write_pairs(tmp_path / 'reside', ['0001.png', '0002.png'])
    (src / 'clean').rename(src / 'clear')
    shutil.copy(src / 'clear' / '0001.png', src / 'clear' / '0001.jpg')
    (src / 'rainy').rename(src / 'hazy')
    for name in ('0001', '0002'):
        (src / 'hazy' / f'{name}.png').rename(src / 'hazy' / f'{name}_0.8_0.2.png')
    pairs, problems = _problems(src, 'reside')
    assert pairs == 1
    reasons = {os.path.basename(p): r for p, r in problems}
    assert set(reasons) == {'0001.png', '0001.jpg', '0001_0.8_0.2.png'}
    assert 'share the stem 0001' in reasons['0001.jpg']
    assert reasons['0001_0.8_0.2.png'] == 'its clean image 0001.* is ambiguous (0001.jpg, 0001.png)'


def test_dangling_symlinks_and_non_utf8_names_are_reported(tmp_path, write_pairs, capsys):
    src = write_pairs(tmp_path / 'src', ['a.png'])
    for sub in ('rainy', 'clean'):
        os.symlink(tmp_path / 'gone.png', src / sub / 'b.png')
    pairs, problems = _problems(src, 'pairs')
    assert pairs == 1 and len(problems) == 2
    assert all('dangling symbolic link' in r and 'gone.png' in r for _, r in problems)
    bad = os.fsencode(src / 'rainy') + b'/caf\xe9.png'
    with open(bad, 'wb') as f:
        f.write((src / 'rainy' / 'a.png').read_bytes())
    assert main(['pack', str(src), str(tmp_path / 'o.h5'), '--workers', '1', '--skip-bad']) == 0
    out = capsys.readouterr().out
    assert 'skipped 3' in out and 'caf\\xe9.png: file name is not UTF-8' in out


def test_prenet_same_number_twice_is_refused(tmp_path, write_pairs):
    src = write_pairs(tmp_path / 'p', ['x.png'])
    folder = tmp_path / 'prenet'
    folder.mkdir()
    for name in ('rain-1.png', 'rain-1.jpg', 'norain-1.png'):
        shutil.copy(src / 'rainy' / 'x.png', folder / name)
    pairs, problems = _problems(folder, 'prenet')
    assert pairs == 1 and len(problems) == 1 and 'same number' in problems[0][1]


def test_rain1400_ambiguous_clean_stem(tmp_path, write_pairs):
    src = write_pairs(tmp_path / 'r', ['7.png'])
    shutil.copy(src / 'clean' / '7.png', src / 'clean' / '7.jpg')
    (src / 'rainy' / '7.png').rename(src / 'rainy' / '7_1.png')
    pairs, problems = _problems(src, 'rain1400')
    assert pairs == 0 and len(problems) == 3
