"""``tools/export_onnx.py``: the ONNX graph under ONNX Runtime gives the engine's output, at the
traced size and at another (dynamic) size."""
import importlib.util

import pytest
import torch

pytest.importorskip('onnxruntime')

from danet.apis.export import compare_onnx, onnx_session  # noqa: E402
from danet.apis.inference import init_model  # noqa: E402
from danet.engine.inference import InferenceEngine  # noqa: E402


@pytest.mark.slow
def test_export_matches_the_engine_at_two_sizes(repo_root, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('export_onnx', repo_root / 'tools/export_onnx.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    config = repo_root / 'configs/_base_/models/danet.py'
    options = ['--cfg-options', 'model.generator.n_feat=8', 'model.generator.num_cab=1']
    out = tmp_path / 'danet.onnx'
    torch.manual_seed(0)
    result = tool.main([str(config), str(out), '--check', '48x80', *options])
    assert out.is_file() and result['max_abs_diff'] <= 1e-4
    assert 'max |onnx - engine|' in capsys.readouterr().out
    engine = InferenceEngine(init_model(config, cfg_options={  # new weights, another size
        'model.generator.n_feat': 8, 'model.generator.num_cab': 1}))
    tool.export_onnx(engine.model.generator, out)
    other = compare_onnx(engine, onnx_session(out), torch.rand(2, 3, 32, 64), repeats=1)
    assert other['max_abs_diff'] <= 1e-4
