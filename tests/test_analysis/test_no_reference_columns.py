"""No-reference results (eval_folder --no-reference) show a NIQE column, lower is best."""
from analysis.__main__ import main
from danet.evaluation.protocols import build_protocol
from danet.evaluation.results import build_results, write_results


def test_comparison_table_shows_niqe_lower_is_best(tmp_path, capsys):
    a = [3.9 + 0.01 * i for i in range(8)]          # B and C are worse on every image
    methods = {'A': a, 'B': [v + 0.5 + 0.01 * i for i, v in enumerate(a)],
               'C': [v + 1.0 + 0.02 * i for i, v in enumerate(a)]}
    for method, values in methods.items():
        rows = [{'name': f'{i:03d}.png', 'niqe': v} for i, v in enumerate(values)]
        results = build_results('RealRain', method, rows, build_protocol('basicsr').conventions(),
                                None, 'stems')
        write_results(tmp_path / method / 'results' / 'RealRain.json', results)
    main(['table', *(str(tmp_path / m) for m in methods), '--out-dir', str(tmp_path / 'tables')])
    table = (tmp_path / 'tables' / 'comparison.md').read_text()
    assert 'RealRain NIQE' in table
    assert '**3.9350**' in table and 'PSNR' not in table  # lower NIQE is best
