"""The PReNet family: parameter counts of the authors' classes, every released file converted and
checked against golden outputs of the authors' ``networks.py`` (tests/data, made outside the repo
as docs/reproductions.md describes), components swappable, trainable in DerainModel."""
from pathlib import Path

import pytest
import torch

from danet.models.converters import GENERATOR_PREFIX, convert_checkpoint
from danet.registry import MODELS
from danet.utils.complexity import count_parameters

GOLDEN = Path(__file__).resolve().parents[1] / 'data' / 'prenet_released_golden.pth'

# released file (under released_weights/PReNet) -> (converter arch, registered model, stages)
RELEASED = {f'{ds}/{name}': (arch, model, 6) for ds in ('Rain100H', 'Rain100L', 'Rain1400')
            for name, arch, model in (('PRN6', 'prn', 'PRN'), ('PRN6_r', 'prn_r', 'PRN_r'),
                                      ('PReNet6', 'prenet', 'PReNet'),
                                      ('PReNet6_r', 'prenet_r', 'PReNet_r'))}
RELEASED.update({f'Ablation/PReNet{t}_LSTM': ('prenet_lstm', 'PReNet_LSTM', t) for t in (5, 6, 7)})
RELEASED.update({'Ablation/PReNet6_RecSSIM': ('prenet_lstm', 'PReNet_LSTM', 6),
                 'Ablation/PReNet6_GRU': ('prenet_gru', 'PReNet_GRU', 6),
                 'Ablation/PReNet6_x': ('prenet_x', 'PReNet_x', 6),
                 'real/PReNet1': ('prenet_real', 'PReNet_real', 4),
                 'real/PReNet2': ('prenet_real', 'PReNet_real', 4)})


@pytest.mark.parametrize('name, params', [
    ('PReNet', 168_963), ('PRN', 95_107), ('PReNet_GRU', 150_499), ('PReNet_x', 168_099),
    ('PRN_r', 21_123), ('PReNet_r', 94_979), ('PReNet_LSTM', 168_963), ('PReNet_real', 168_963)])
def test_parameter_counts_equal_the_authors_classes(name, params):
    for stages in (2, 6):  # T changes the unrolling, not the weights
        generator = MODELS.build(dict(type=name, stages=stages))
        assert count_parameters(generator) == params
        outputs = generator(torch.rand(1, 3, 8, 12))
        assert len(outputs) == stages and outputs[0].shape == (1, 3, 8, 12)


def test_every_released_file_converts_and_matches_the_authors_outputs(shared_data, tmp_path,
                                                                     capsys):
    from tools.convert_checkpoint import main
    golden = torch.load(GOLDEN, weights_only=True)
    assert set(golden['outputs']) == set(RELEASED)
    assert main(['--prenet-release', str(shared_data / 'released_weights' / 'PReNet'),
                 str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.glob('*.pth'))
    assert written == sorted(f'{key.replace("/", "_")}.pth' for key in RELEASED)
    assert capsys.readouterr().out.count('wrote ') == len(RELEASED)
    for key, (arch, model, stages) in sorted(RELEASED.items()):
        checkpoint = torch.load(tmp_path / f'{key.replace("/", "_")}.pth', weights_only=True)
        assert checkpoint['meta']['arch'] == arch
        generator = MODELS.build(dict(type=model, stages=stages)).eval()
        generator.load_state_dict({k.removeprefix(GENERATOR_PREFIX): v
                                   for k, v in checkpoint['state_dict'].items()})
        with torch.no_grad():
            outputs = generator(golden['input'])
        ours = torch.stack([outputs[0][0], outputs[1 % stages][0]])
        error = (ours - golden['outputs'][key]).abs().max().item()
        assert error <= 1e-4, f'{key}: max abs difference {error}'


def test_a_wrong_architecture_is_refused(shared_data, tmp_path):
    src = shared_data / 'released_weights' / 'PReNet' / 'Rain100L' / 'PRN6' / 'net_latest.pth'
    with pytest.raises(ValueError, match='missing key: recurrent.conv_i.0.weight'):
        convert_checkpoint(src, tmp_path / 'x.pth', 'prenet')
    assert not (tmp_path / 'x.pth').exists()


def test_components_are_swappable():
    gru = MODELS.build(dict(type='PReNet', recurrent=dict(type='ConvGRUUnit'),
                            resblocks=dict(type='ResBlockStack', num_blocks=3, shared=True)))
    assert count_parameters(gru) == 1760 + 3 * 18464 + 18496 + 867
    assert type(gru.recurrent).__name__ == 'ConvGRUUnit'
    assert gru(torch.rand(2, 3, 6, 6))[0].shape == (2, 3, 6, 6)


def test_trains_inside_derain_model():
    from danet.structures import DerainSample
    model = MODELS.build(dict(type='DerainModel', generator=dict(type='PRN_r', stages=2),
                              losses=[dict(type='MSELoss')]))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    samples = [DerainSample(gt_img=torch.rand(3, 16, 16)) for _ in range(2)]
    inputs = torch.rand(2, 3, 16, 16)
    before = model(inputs, samples, mode='loss')['loss_mse']
    for _ in range(5):
        loss = model(inputs, samples, mode='loss')['loss_mse']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < before.item()


@pytest.mark.parametrize('key', ['Rain100L/PReNet6', 'Ablation/PReNet6_GRU', 'Ablation/PReNet6_x',
                                 'real/PReNet1'])
def test_plain_and_rewritten_models_give_the_released_golden_outputs(shared_data, key):
    """The plain model (as the paper, autograd on) and the engine's rewritten one (fused gates,
    tanh as a sigmoid, the zero first state, in-place ops, oneDNN and the padded output conv,
    channels-last, inference mode) both give the authors' outputs; the rewritten model still
    trains (autograd takes the plain forward)."""
    from danet.engine.inference import InferenceEngine
    from danet.engine.rewrites import MODULE_REWRITES, PaddedOutputConv
    golden = torch.load(GOLDEN, weights_only=True)
    arch, model, stages = RELEASED[key]
    name = key if key.startswith('real/') else f'{key}/net_latest'
    weights = torch.load(shared_data / 'released_weights' / 'PReNet' / f'{name}.pth',
                         map_location='cpu', weights_only=True)
    generator = MODELS.build(dict(type=model, stages=stages)).eval()
    generator.load_state_dict(generator.official_keys(weights))
    plain = generator(golden['input'])
    assert plain[0].requires_grad
    rewritten = InferenceEngine(generator)(golden['input'])
    fast = set(MODULE_REWRITES.values())
    assert type(generator.resblocks) in fast and type(generator.conv[0]) is PaddedOutputConv
    assert generator.recurrent is None or type(generator.recurrent) in fast
    generator.requires_grad_(True)
    retrained = generator(golden['input'])
    assert retrained[0].requires_grad
    for outputs in (plain, rewritten, retrained):
        ours = torch.stack([outputs[0][0], outputs[1][0]])
        assert (ours - golden['outputs'][key]).abs().max() <= 1e-4, key


def test_engine_equals_the_authors_unfused_network_to_one_grey_level(shared_data):
    """On a real Rain100L crop: the engine's output against ``networks.PReNet`` re-stated (four
    gate convolutions, NCHW, out of place), both truncated to 8 bits as the authors' test
    script does."""
    import numpy as np
    from PIL import Image

    from danet.benchmarks.reference import ReferencePReNet
    from danet.engine.inference import InferenceEngine
    weights = torch.load(shared_data / 'released_weights/PReNet/Rain100L/PReNet6/net_latest.pth',
                         map_location='cpu', weights_only=True)
    image = np.array(Image.open(shared_data / 'Rain100L/rainy/001.png').convert('RGB'))
    x = torch.from_numpy(image[:64, :96]).permute(2, 0, 1)[None].float() / 255
    generator = MODELS.build(dict(type='PReNet')).eval()
    generator.load_state_dict(generator.official_keys(weights))
    ours = InferenceEngine(generator)(x)[0]
    with torch.no_grad():
        theirs = ReferencePReNet(weights, 'PReNet')(x)[0]
    assert (ours - theirs).abs().max() <= 1e-4

    def to_uint8(t):
        return (255 * t.clamp(0, 1)).to(torch.uint8).int()
    diff = (to_uint8(ours) - to_uint8(theirs)).abs()
    assert diff.max() <= 1 and diff.float().mean() < 1e-3
