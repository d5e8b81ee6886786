"""The results schema: round trip and validation errors that name the file and field."""
import copy
import json
import math

import pytest

from danet.evaluation.protocols import build_protocol
from danet.evaluation.results import ResultsError, build_results, read_results, write_results


def make_results():
    rows = [{'name': '001.png', 'psnr_y': 30.0, 'ssim_y': 0.9},
            {'name': '002.png', 'psnr_y': 20.0, 'ssim_y': 0.7}]
    return build_results('Rain100L', 'danet', rows, build_protocol().conventions(), 'cfg123',
                         'data456')


def test_summary_is_mean_and_round_trip(tmp_path):
    results = make_results()
    assert results['summary'] == {'psnr_y': 25.0, 'ssim_y': pytest.approx(0.8)}
    path = write_results(tmp_path / 'results' / 'Rain100L.json', results)
    assert read_results(path) == results
    assert sorted(p.name for p in path.parent.iterdir()) == ['Rain100L.json']


def test_infinite_psnr_round_trips(tmp_path):
    rows = [{'name': 'a.png', 'psnr_y': math.inf}, {'name': 'b.png', 'psnr_y': 10.0}]
    results = build_results('T', 'm', rows, build_protocol().conventions(), None, 'h')
    path = write_results(tmp_path / 'T.json', results)
    assert read_results(path)['summary']['psnr_y'] == math.inf


@pytest.mark.parametrize('edit, field', [
    (lambda r: r.pop('dataset_hash'), 'dataset_hash: missing'),
    (lambda r: r.update(extra=1), 'extra: unknown field'),
    (lambda r: r.update(testset=''), 'testset'),
    (lambda r: r['summary'].update(psnr_y=99.0), 'summary.psnr_y'),
    (lambda r: r['summary'].update(psnr=1.0), 'summary.psnr: unknown metric'),
    (lambda r: r['images'][1].update(name='001.png'), r'images\[1\].name: duplicate'),
    (lambda r: r['images'][0].update(ssim_y='high'), r'images\[0\].ssim_y'),
    (lambda r: r['images'][0].pop('ssim_y'), r'images\[0\]: metric keys'),
    (lambda r: r['conventions'].pop('peak'), 'conventions.peak: missing'),
    (lambda r: r['conventions'].update(protocol=''), 'conventions.protocol: expected a protocol'),
    (lambda r: r.update(images=[]), 'images'),
    (lambda r: r.update(refused=[{'name': '001.png', 'reason': 'flat'}]),
     r'refused\[0\].name: .001.png. is also a scored image'),
    (lambda r: r.update(refused=[{'name': 'x.png'}]), r'refused\[0\]: expected'),
])
def test_validation_names_file_and_field(tmp_path, edit, field):
    results = copy.deepcopy(make_results())
    edit(results)
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps(results))
    with pytest.raises(ResultsError, match=f'{path}: {field}'):
        read_results(path)
    with pytest.raises(ResultsError):
        write_results(tmp_path / 'out.json', results)
    assert not (tmp_path / 'out.json').exists()


def test_refused_images_round_trip(tmp_path):
    rows = [{'name': 'a.png', 'niqe': 4.0}]
    refused = [{'name': 'flat.png', 'reason': 'NIQE is undefined: no 96×96 block has texture'}]
    results = build_results('T', 'm', rows, build_protocol().conventions(), None, 'h', refused)
    assert read_results(write_results(tmp_path / 'T.json', results))['refused'] == refused


def test_unreadable_file_is_named(tmp_path):
    path = tmp_path / 'broken.json'
    path.write_text('{"testset": ')
    with pytest.raises(ResultsError, match='broken.json: not valid JSON'):
        read_results(path)
    with pytest.raises(ResultsError, match='not found'):
        read_results(tmp_path / 'missing.json')


def test_file_from_before_protocols_reads_as_mprnet_matlab(tmp_path):
    results = copy.deepcopy(make_results())
    del results['conventions']['protocol']
    path = tmp_path / 'old.json'
    path.write_text(json.dumps(results))
    assert read_results(path)['conventions']['protocol'] == 'mprnet_matlab'
    with pytest.raises(ResultsError, match='conventions.protocol: missing'):
        write_results(tmp_path / 'new.json', results)
