"""Official checkpoint conversion: golden outputs survive, bad checkpoints are refused whole."""
import pytest
import torch

from danet.models.checkpoint import CheckpointMismatchError
from danet.models.converters import GENERATOR_PREFIX, convert_checkpoint
from danet.registry import MODELS

GOLDEN = {'mprnet': ('mprnet_official_random.pth', 'MPRNet'),
          'danet': ('danet_official_random.pth', 'DANet')}


def _golden(shared_data, arch):
    return torch.load(shared_data / 'reference_outputs' / GOLDEN[arch][0], weights_only=True)


def _official_file(tmp_path, state_dict, wrap):
    path = tmp_path / 'official.pth'
    torch.save({'state_dict': state_dict} if wrap else state_dict, path)
    return path


@pytest.mark.parametrize('arch', sorted(GOLDEN))
def test_converted_checkpoint_reproduces_golden_outputs(arch, shared_data, tmp_path):
    if arch == 'danet':
        pytest.importorskip('danet.models.danet.official', reason='DANet converter not written yet')
    golden = _golden(shared_data, arch)
    src = _official_file(tmp_path, {'module.' + k: v for k, v in golden['state_dict'].items()},
                         wrap=True)
    meta = convert_checkpoint(src, tmp_path / 'converted.pth', arch)
    assert meta['arch'] == arch and meta['converter_version'] >= 1

    converted = torch.load(tmp_path / 'converted.pth', weights_only=True)
    assert converted['meta'] == meta
    assert all(k.startswith(GENERATOR_PREFIX) for k in converted['state_dict'])
    generator = MODELS.build(dict(type=GOLDEN[arch][1])).eval()
    generator.load_state_dict({k.removeprefix(GENERATOR_PREFIX): v
                               for k, v in converted['state_dict'].items()}, strict=True)
    with torch.no_grad():
        outputs = generator(golden['input'])
    for ours, theirs in zip(outputs, golden['outputs'], strict=True):
        assert torch.allclose(ours, theirs, atol=1e-4, rtol=0)


def _mprnet_state_dict():
    return {k: v.clone() for k, v in MODELS.build(dict(type='MPRNet')).state_dict().items()}


def _corrupt_keys(sd):
    sd['stage3_orsnet.extra.weight'] = torch.zeros(1)
    del sd['tail.weight']
    del sd['sam12.conv1.weight']
    return ['unexpected key: stage3_orsnet.extra.weight', 'missing key: tail.weight',
            'missing key: sam12.conv1.weight']


def _corrupt_shape(sd):
    sd['concat12.weight'] = torch.zeros(40, 80, 1, 1)
    return ['shape mismatch at concat12.weight: checkpoint (40, 80, 1, 1), model (40, 80, 3, 3)']


def _corrupt_shared_prelu(sd):
    sd['stage3_orsnet.orb2.body.3.body.1.weight'] = torch.tensor([0.5])
    return ['shared parameter differs between its copies',
            'stage3_orsnet.orb2.body.3.body.1.weight']


@pytest.mark.parametrize('corrupt', [_corrupt_keys, _corrupt_shape, _corrupt_shared_prelu])
@pytest.mark.parametrize('wrap', [True, False])
def test_bad_checkpoint_lists_every_problem_and_writes_nothing(corrupt, wrap, tmp_path):
    sd = _mprnet_state_dict()
    expected_lines = corrupt(sd)
    src = _official_file(tmp_path, sd, wrap)
    dst = tmp_path / 'out' / 'converted.pth'
    with pytest.raises(CheckpointMismatchError) as info:
        convert_checkpoint(src, dst, 'mprnet')
    message = str(info.value)
    assert str(src) in message
    for line in expected_lines:
        assert line in message
    assert not dst.exists()
    assert not list(tmp_path.rglob('*.tmp'))


def test_unknown_arch_is_rejected(tmp_path):
    src = _official_file(tmp_path, _mprnet_state_dict(), wrap=False)
    with pytest.raises(ValueError, match="unknown arch 'resnet'"):
        convert_checkpoint(src, tmp_path / 'x.pth', 'resnet')


def test_command_line_tool(shared_data, tmp_path, capsys):
    from tools.convert_checkpoint import main
    golden = _golden(shared_data, 'mprnet')
    src = _official_file(tmp_path, golden['state_dict'], wrap=False)
    assert main(['--arch', 'mprnet', str(src), str(tmp_path / 'ok.pth')]) == 0
    assert (tmp_path / 'ok.pth').exists()
    bad = dict(golden['state_dict'])
    bad.pop('tail.weight')
    src = _official_file(tmp_path, bad, wrap=False)
    assert main(['--arch', 'mprnet', str(src), str(tmp_path / 'bad.pth')]) == 1
    assert 'missing key: tail.weight' in capsys.readouterr().err
    assert not (tmp_path / 'bad.pth').exists()


def test_archs_are_the_registered_generators_that_map_official_keys(tmp_path):
    from danet.models import Generator, generators
    from danet.models.converters import official_archs
    assert official_archs()['prenet_r'] == 'PReNet_r' and 'pcnet' not in official_archs()
    assert {'danet', 'mprnet', 'pcnet', 'prn'} <= set(generators())

    class TinyNet(Generator):   # a new architecture: its class alone makes it convertible
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 3, 1)

        @staticmethod
        def official_keys(state_dict):
            return {k.replace('body.', 'conv.'): v for k, v in state_dict.items()}
    MODELS.register_module(module=TinyNet)
    try:
        torch.save({'body.weight': torch.ones(3, 3, 1, 1), 'body.bias': torch.zeros(3)},
                   tmp_path / 'tiny.pth')
        assert convert_checkpoint(tmp_path / 'tiny.pth', tmp_path / 'out.pth', 'tinynet')[
            'num_tensors'] == 2
    finally:
        MODELS.module_dict.pop('TinyNet')
