"""No-reference results (eval_folder --no-reference) show a NIQE column, lower is best."""
from analysis.__main__ import main
from danet.evaluation.protocols import build_protocol
from danet.evaluation.results import build_results, write_results


def test_comparison_table_shows_niqe_lower_is_best(tmp_path, capsys):
    for method, values in (('Rainy input', (3.9, 4.1)), ('Derainer', (4.4, 4.6))):
        rows = [{'name': f'{i:03d}.png', 'niqe': v} for i, v in enumerate(values)]
        results = build_results('RealRain', method, rows, build_protocol('basicsr').conventions(),
                                None, 'stems')
        write_results(tmp_path / method / 'results' / 'RealRain.json', results)
    main(['table', str(tmp_path / 'Rainy input'), str(tmp_path / 'Derainer'),
          '--out-dir', str(tmp_path / 'tables')])
    table = (tmp_path / 'tables' / 'comparison.md').read_text()
    assert 'RealRain NIQE' in table
    assert '**4.0000**' in table and 'PSNR' not in table
