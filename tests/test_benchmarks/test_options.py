"""The engine options: ``tools/benchmark_inference.py --options`` times each against the fp32
engine and reports its output difference; the shared blocks compile as one graph."""
import json

import torch

from danet.benchmarks.op_profile import profile_side
from danet.engine.rewrites import rewrite_kernels
from danet.models.common import CAB
from tools import benchmark_inference


def test_options_benchmark_reports_speed_and_difference_of_each_option(tmp_path, capsys):
    out = tmp_path / 'options.json'
    benchmark_inference.main(['--options', 'bf16', 'onnxruntime', '--models', 'danet',
                              '--shapes', '32x48', '--warmup', '0', '--repeats', '1',
                              '--threads', '1', '--out', str(out)])
    rows = {r['option']: r for r in json.loads(out.read_text())['rows']}
    assert rows.keys() == {'bf16', 'onnxruntime'}
    for row in rows.values():
        assert row['model'] == 'danet' and row['shape'] == [32, 48] and row['threads'] == 1
        assert row['engine_ms'] > 0 and row['option_ms'] > 0 and row['first_call_s'] > 0
    assert rows['onnxruntime']['within_tolerance']  # the same fp32 graph
    assert not rows['bf16']['within_tolerance'] and rows['bf16']['max_abs_diff'] < 0.1
    assert 'speed-up' in capsys.readouterr().out


def test_channel_attention_block_traces_into_one_graph_for_torch_compile():
    """``OneDNNConv2d`` steps aside under dynamo (no graph break, no fake-tensor failure on
    ``mkldnn_convolution``), so a compiled DANet is one graph (docs/inference.md)."""
    torch.manual_seed(0)
    block = rewrite_kernels(CAB(8)).eval().to(memory_format=torch.channels_last)
    x = torch.rand(1, 8, 16, 16).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        eager = block(x)
        traced = torch.compile(block, backend='eager', fullgraph=True)(x)
    assert torch.allclose(traced, eager, atol=1e-6, rtol=0)


def test_op_profile_counts_every_convolution_of_both_sides(shared_data):
    """Ours runs all 191 spatial convolutions on oneDNN, the reference its 311 ``conv2d`` calls
    (the 120 attention 1×1s are matrix products on our side)."""
    weights = str(shared_data / 'reference_outputs/danet_official_random.pth')
    sides = {side: profile_side(side, (32, 32), 1, weights, repeats=1)['ops']
             for side in ('ours', 'reference')}
    assert sides['ours']['aten::mkldnn_convolution'][1] == 191
    assert sides['ours']['aten::mm'][1] == 120
    assert sides['reference']['aten::conv2d'][1] == 311


def test_op_profile_of_prenet_runs_the_gates_as_one_convolution(shared_data):
    """PReNet6: 13 oneDNN convolutions per stage on our side (conv0, the four gates as one, ten
    ResBlock convs, the output conv), 16 ``conv2d`` calls per stage in ``networks.PReNet``."""
    weights = str(shared_data / 'released_weights/PReNet/Rain100L/PReNet6/net_latest.pth')
    sides = {side: profile_side(side, (32, 32), 1, weights, 1, 'prenet')['ops']
             for side in ('ours', 'reference')}
    assert sides['ours']['aten::mkldnn_convolution'][1] == 6 * 13
    assert 'aten::tanh' not in sides['ours']  # computed as 2·sigmoid(2x) − 1
    assert sides['reference']['aten::conv2d'][1] == 6 * 16
