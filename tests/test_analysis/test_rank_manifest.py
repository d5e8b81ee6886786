"""``analysis rank MANIFEST``: one row per label (its seeds averaged), the protocol named, a
result under another protocol refused."""
import json

import pytest

from analysis import rank
from analysis.store import AnalysisError
from danet.evaluation.results import build_results, write_results
from danet.utils.fileio import atomic_write_json

PRENET = dict(protocol='prenet_matlab', crop_border=0, quantize='truncate', peak=255,
              y_channel='float_y', ssim='wang_ssim_m_downsample_gaussian11_sigma1.5_valid')


def entry(root, label, role, seed, psnr, conventions=PRENET):
    folder = root / f'{label}-{seed}'.replace(' ', '_').replace('[', '').replace(']', '')
    images = [{'name': f'{i}.png', 'psnr_y': psnr + i / 10, 'ssim_y': 0.8 + psnr / 1000}
              for i in range(4)]
    write_results(folder / 'results' / 'Tiny.json',
                  build_results('Tiny', 'm', images, conventions, 'cfg', 'data'))
    atomic_write_json(folder / 'complexity.json', {'params': 10, 'gmacs': 0.1,
                                                   'shape': [3, 256, 256]})
    return dict(label=label, role=role, seed=seed, testset='Tiny', dir=str(folder))


def test_two_checkpoints_are_two_rows_and_seeds_are_averaged(tmp_path):
    entries = [entry(tmp_path, 'mine (candidate)', 'candidate', None, 30.0),
               entry(tmp_path, 'base [ckpt1]', 'zoo', 0, 31.0),
               entry(tmp_path, 'base [ckpt2]', 'zoo', 0, 29.0),
               entry(tmp_path, 'trained', 'zoo', 0, 28.0),
               entry(tmp_path, 'trained', 'zoo', 1, 31.0)]
    manifest = tmp_path / 'rank_manifest.json'
    atomic_write_json(manifest, {'protocol': 'prenet_matlab', 'testsets': ['Tiny'],
                                 'entries': entries})
    rank.write_rank(manifest, tmp_path / 'out')
    table = (tmp_path / 'out' / 'rank.md').read_text()
    assert table.splitlines()[0].startswith('Protocol: prenet_matlab')
    rows = [line.split(' | ') for line in table.splitlines()[4:]]
    assert [r[0].lstrip('| ') for r in rows] == ['base [ckpt1]', 'mine (candidate)', 'trained',
                                                 'base [ckpt2]']
    assert rows[2][1] == '2' and rows[2][5] == '29.6500'     # two seeds: (28.15 + 31.15) / 2
    significance = json.loads((tmp_path / 'out' / 'significance.json').read_text())
    assert {c['a'] for c in significance} == {'base [ckpt1]'}
    assert {c['protocol'] for c in significance} == {'prenet_matlab'}

    entries.append(entry(tmp_path, 'other', 'zoo', 0, 30.0, dict(PRENET, protocol='basicsr')))
    atomic_write_json(manifest, {'protocol': 'prenet_matlab', 'testsets': ['Tiny'],
                                 'entries': entries})
    with pytest.raises(AnalysisError, match='Tiny scored under basicsr, the ranking under '
                                            'prenet_matlab'):
        rank.write_rank(manifest, tmp_path / 'out')
