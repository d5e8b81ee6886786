"""MAC/parameter counting: DANet's published figure, the report's keys, nothing dropped silently."""
import pytest
from torch import nn

from danet.utils.complexity import complexity_report, format_compare_table, format_module_table

SMALL = dict(type='DANet', n_feat=8, num_cab=1)


@pytest.fixture(scope='module')
def danet_64():
    return complexity_report(dict(type='DANet'), (3, 64, 64))


def test_danet_macs_scale_to_the_published_figure(danet_64):
    # every counted op is per-pixel, so 256x256 is exactly 16x the 64x64 count
    assert 32.6 <= danet_64['gmacs'] * 16 <= 32.7
    conv_gmacs = danet_64['counted_ops']['aten::_convolution']['macs'] * 16 / 1e9
    assert conv_gmacs == pytest.approx(32.62, abs=0.005)  # DANET_SPEC 1.9, convs only
    assert danet_64['params'] == 2_943_138


def test_report_keys_and_per_module_rows(danet_64):
    assert set(danet_64) == {'model', 'shape', 'params', 'macs', 'gmacs', 'per_module',
                             'unsupported_ops', 'counted_ops'}
    assert danet_64['model'] == 'DANet' and danet_64['shape'] == [3, 64, 64]
    rows = danet_64['per_module']
    assert {'dsnet', 'ssnet', 'dsnet.trunk', 'ssnet.reconstruction'} <= set(rows)
    assert all(name.count('.') <= 1 for name in rows)
    assert rows['dsnet']['macs'] + rows['ssnet']['macs'] == danet_64['macs']
    table = format_module_table(danet_64)
    assert 'ssnet.alm' in table and '2,943,138' in table


def test_pixel_shuffle_and_elementwise_ops_are_listed_not_dropped(danet_64):
    ops = danet_64['counted_ops']
    assert ops['aten::pixel_shuffle'] == dict(calls=1, macs=0)
    assert ops['aten::sigmoid']['calls'] > 0 and ops['aten::add']['calls'] > 0
    assert danet_64['unsupported_ops'] == {}
    assert sum(op['macs'] for op in ops.values()) == danet_64['macs']


class CumulativeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1, bias=False)

    def forward(self, x):
        return [self.conv(x).cumsum(-1)]


def test_ops_without_a_handle_are_reported():
    report = complexity_report(CumulativeNet(), (3, 8, 8))
    assert report['unsupported_ops'] == {'aten::cumsum': 1}
    assert report['macs'] == 3 * 4 * 8 * 8
    assert 'aten::cumsum' in format_module_table(report)


def test_a_variant_changes_macs():
    paper = complexity_report(SMALL, (3, 32, 32))
    plain = complexity_report(dict(SMALL, alm=dict(type='PlainALM')), (3, 32, 32))
    assert plain['macs'] < paper['macs']
    assert plain['per_module']['ssnet.alm']['macs'] < paper['per_module']['ssnet.alm']['macs']
    table = format_compare_table({'paper': paper, 'plain': plain})
    assert 'plain' in table and '100.0%' in table

