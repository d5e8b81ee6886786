"""tools/derain.py: odd sizes and grayscale keep their size; outputs are RGB PNGs; inputs are
never overwritten, name collisions are refused, an unreadable image does not stop the rest."""
import importlib.util
import re
import subprocess
import sys

import numpy as np
import pytest
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


@pytest.fixture
def tiny_model(repo_root, tmp_path):
    """``[config, checkpoint]`` of a narrow DANet with random weights."""
    init_default_scope('danet')
    cfg = Config.fromfile(str(repo_root / 'configs/danet/danet_smoke-cpu_1xb4-100e_train40.py'))
    cfg.model.generator.update(n_feat=8, num_cab=1)
    cfg.dump(tmp_path / 'tiny.py')
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, tmp_path / 'w.pth')
    return [str(tmp_path / 'tiny.py'), str(tmp_path / 'w.pth')]


def save_random(path, shape, seed=0):
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, shape, dtype=np.uint8)).save(path)


def test_derain_folder_keeps_odd_and_grayscale_sizes(repo_root, tiny_model, tmp_path):
    src = tmp_path / 'in'
    src.mkdir()
    save_random(src / 'odd.png', (37, 53, 3))
    save_random(src / 'gray.png', (33, 40))
    assert load_tool(repo_root, 'derain').main([*tiny_model, str(src), str(tmp_path / 'out')]) == 0
    for name, size in (('odd', (53, 37)), ('gray', (40, 33))):
        with Image.open(tmp_path / 'out' / f'{name}.png') as out:
            assert out.size == size and out.mode == 'RGB'


def test_derain_never_overwrites_inputs_nor_loses_a_colliding_name(repo_root, tiny_model,
                                                                    tmp_path):
    tool = load_tool(repo_root, 'derain')
    src = tmp_path / 'in'
    src.mkdir()
    save_random(src / 'a.png', (16, 16, 3))
    original = (src / 'a.png').read_bytes()
    with pytest.raises(ValueError, match='holds the input images.*--suffix'):
        tool.main([*tiny_model, str(src), str(src)])
    save_random(src / 'a_d.png', (16, 16, 3), seed=1)  # a.png + suffix _d would overwrite it
    with pytest.raises(ValueError, match=r'holds the input images \(a_d.png\)'):
        tool.main([*tiny_model, str(src), str(src), '--suffix', '_d'])
    assert tool.main([*tiny_model, str(src / 'a.png'), str(src), '--suffix', '_x']) == 0
    assert (src / 'a.png').read_bytes() == original and (src / 'a_x.png').is_file()
    save_random(src / 'a.jpg', (16, 16, 3))
    with pytest.raises(ValueError, match='a.jpg and a.png would both be written to'):
        tool.main([*tiny_model, str(src), str(tmp_path / 'out')])
    assert not (tmp_path / 'out').exists()


def test_unreadable_image_is_listed_and_the_rest_processed(repo_root, tiny_model, tmp_path):
    src = tmp_path / 'in'
    src.mkdir()
    save_random(src / 'a.png', (16, 16, 3))
    (src / 'b.png').write_bytes(b'not an image')
    save_random(src / 'c.png', (16, 16, 3))
    proc = subprocess.run([sys.executable, 'tools/derain.py', *tiny_model, str(src),
                           str(tmp_path / 'out')], cwd=repo_root, capture_output=True, text=True)
    assert proc.returncode == 1
    assert '1 of 3 image(s) failed' in proc.stderr and 'b.png' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == ['a.png', 'c.png']


def test_small_tile_gets_an_overlap_that_fits(repo_root, tiny_model, tmp_path):
    """``--tile 32`` alone works (the default overlap, 32, fits only tiles over 32): a small
    tile overlaps by a quarter of itself, and the result equals that overlap given explicitly.
    A tile under the minimum (32 pixels: smaller ones change the output) is refused saying so."""
    from danet.apis.inference import derain, init_model
    src = tmp_path / 'in'
    src.mkdir()
    save_random(src / 'odd.png', (37, 53, 3))
    tool = load_tool(repo_root, 'derain')
    assert tool.main([*tiny_model, str(src), str(tmp_path / 'a'), '--tile', '32']) == 0
    model = init_model(*tiny_model)
    expected = derain(model, np.array(Image.open(src / 'odd.png')), tile=32, overlap=8)
    assert np.array_equal(np.array(Image.open(tmp_path / 'a' / 'odd.png')), expected)
    with pytest.raises(ValueError, match='--tile 8: under the minimum of 32 pixels'):
        derain(model, expected, tile=8)


def test_orientation_applied_and_animations_listed(repo_root, tiny_model, tmp_path, capsys):
    """A portrait JPEG-style file (EXIF orientation 6) comes out upright, saying so; an animated
    GIF is listed as failed (not silently skipped) and a one-frame GIF is derained."""
    src = tmp_path / 'in'
    src.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(src / 'portrait.png', exif=exif)
    frames = [Image.new('RGB', (16, 16), c) for c in ('red', 'blue')]
    frames[0].save(src / 'anim.gif', save_all=True, append_images=frames[1:])
    frames[0].save(src / 'still.gif')
    tool = load_tool(repo_root, 'derain')
    assert tool.main([*tiny_model, str(src), str(tmp_path / 'out')]) == 1
    err = capsys.readouterr().err
    assert 'anim.gif: animated or multi-frame image (2 frames)' in err
    assert 'portrait.png: EXIF orientation 6 applied' in err
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == ['portrait.png', 'still.png']
    with Image.open(tmp_path / 'out' / 'portrait.png') as out:
        assert out.size == (20, 30)


@pytest.mark.parametrize('args, shown', [
    (['--tile', '2'], '--tile 2: under the minimum of 32 pixels'),
    (['--tile', '64', '--overlap', '4'], '--overlap 4: must be at least 8 pixels'),
    (['--tile', '32', '--overlap', '32'], '--overlap 32: must be at least 8 pixels (seams '
                                          'otherwise) and under the tile (32)'),
    (['--overlap', '16'], '--overlap 16: only used with --tile'),
    (['--suffix', '/../../evil'], "--suffix '/../../evil': contains a path separator"),
    (['--device', 'cuda1'], "--device 'cuda1': not a device"),
    (['--device', 'cuda:99'], '--device cuda:99: cuda:99 is not available here'),
])
def test_bad_options_are_refused_before_any_work(repo_root, tiny_model, tmp_path, args, shown,
                                                 capsys):
    """A too small tile gave an output 31.9 dB from the untiled one without a word; a suffix
    with a separator wrote every output onto one file outside OUT (exit 0)."""
    from danet.utils.cli import run_main
    src = tmp_path / 'in'
    src.mkdir()
    save_random(src / 'a.png', (16, 16, 3))
    tool = load_tool(repo_root, 'derain')
    with pytest.raises(SystemExit) as stop:
        run_main(lambda: tool.main([*tiny_model, str(src), str(tmp_path / 'o' / 'out'), *args]))
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and err.startswith('error: ') and len(err.splitlines()) == 1
    assert shown in err
    assert not (tmp_path / 'o').exists() and not (tmp_path / 'evil.png').exists()


def test_an_empty_or_wrongly_shaped_image_is_one_clear_error(tiny_model):
    from danet.apis.inference import derain, init_model
    model = init_model(*tiny_model)
    for image in (np.zeros((0, 5, 3), np.uint8), np.zeros((5, 0), np.uint8),
                  np.zeros((5, 5, 1), np.uint8)):
        shape = re.escape(str(image.shape))
        with pytest.raises(ValueError, match=rf'derain: .* got uint8 {shape}'):
            derain(model, image)
    for batch in (torch.zeros(1, 3, 0, 5), torch.zeros(1, 1, 8, 8), torch.zeros(0, 3, 8, 8)):
        with pytest.raises(ValueError, match=r'B×3×H×W float tensor with B, H, W >= 1'):
            derain(model, batch)


def test_a_second_writer_of_one_output_folder_is_refused_naming_the_holder(
        repo_root, tiny_model, tmp_path):
    from danet.utils.run_lock import LOCK_FILES, RunLock
    src, out = tmp_path / 'in', tmp_path / 'out'
    src.mkdir()
    save_random(src / 'a.png', (16, 16, 3))
    tool = load_tool(repo_root, 'derain')
    with RunLock(out).held('derain'):   # this process is the live holder
        with pytest.raises(FileExistsError, match=rf'{out} is in use by another derain: pid '):
            tool.main([*tiny_model, str(src), str(out)])
        assert {p.name for p in out.iterdir()} <= set(LOCK_FILES)   # nothing written
    assert tool.main([*tiny_model, str(src), str(out)]) == 0
    assert sorted(p.name for p in out.iterdir() if p.name not in LOCK_FILES) == ['a.png']
