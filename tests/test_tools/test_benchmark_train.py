"""``tools/benchmark_train.py``: both variants run the real training step and the JSON adds up."""
import importlib.util
import json

import numpy as np
import pytest
from PIL import Image

from danet.datasets.pack import pack


@pytest.mark.slow
def test_benchmark_reports_rates_and_data_wait_share(repo_root, tmp_path, capsys):
    for sub in ('rainy', 'clean'):
        (tmp_path / 'src' / sub).mkdir(parents=True)
        for i in range(4):
            img = np.random.default_rng(i).integers(0, 256, (40, 40, 3), dtype=np.uint8)
            Image.fromarray(img).save(tmp_path / 'src' / sub / f'{i}.png')
    pack(tmp_path / 'src', tmp_path / 'tiny.h5', val_fraction=0.25, workers=1)
    spec = importlib.util.spec_from_file_location('benchmark_train',
                                                  repo_root / 'tools/benchmark_train.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    out = tmp_path / 'bench.json'
    module.main([str(tmp_path / 'tiny.h5'), '--config',
                 str(repo_root / 'configs/danet/danet_smoke-cpu_1xb4-100e_train40.py'),
                 '--batch', '2', '--crop', '32', '--workers', '0', '--steps', '2', '--warmup', '1',
                 '--out', str(out)])
    result = json.loads(out.read_text())
    loader, memory = result['loader'], result['in_memory']
    assert 0 < loader['data_wait_s'] < loader['wall_s']
    assert result['data_wait_share'] == loader['data_wait_s'] / loader['wall_s']
    assert result['samples_per_s_loader'] == 4 / loader['wall_s']
    assert result['samples_per_s_in_memory'] == 4 / memory['wall_s']
    assert memory['data_wait_s'] < loader['data_wait_s']  # nothing to load in memory
    assert 'data wait' in capsys.readouterr().out
