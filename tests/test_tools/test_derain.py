"""tools/derain.py: odd sizes and grayscale keep their size; outputs are RGB PNGs."""
import importlib.util

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from danet.registry import MODELS


def load_tool(repo_root, name):
    spec = importlib.util.spec_from_file_location(name, repo_root / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_derain_folder_keeps_odd_and_grayscale_sizes(repo_root, tmp_path):
    init_default_scope('danet')
    config = repo_root / 'configs/danet/danet_smoke_cpu.py'
    cfg = Config.fromfile(str(config))
    cfg.model.generator.update(n_feat=8, num_cab=1)
    cfg.dump(tmp_path / 'tiny.py')
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, tmp_path / 'w.pth')
    src = tmp_path / 'in'
    src.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (37, 53, 3), dtype=np.uint8)).save(src / 'odd.png')
    Image.fromarray(rng.integers(0, 255, (33, 40), dtype=np.uint8)).save(src / 'gray.png')
    load_tool(repo_root, 'derain').main([str(tmp_path / 'tiny.py'), str(tmp_path / 'w.pth'),
                                         str(src), str(tmp_path / 'out')])
    for name, size in (('odd', (53, 37)), ('gray', (40, 33))):
        with Image.open(tmp_path / 'out' / f'{name}.png') as out:
            assert out.size == size and out.mode == 'RGB'
