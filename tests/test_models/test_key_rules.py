"""``--revise-keys`` rules, and where checkpoints keep their tensors (danet.models.checkpoint)."""
import pytest
import torch
from torch import nn

from danet.models.checkpoint import (
    DEFAULT_REVISE_KEYS,
    CheckpointMismatchError,
    fit_keys,
    parse_revise_keys,
    read_checkpoint,
    revise_keys,
)


class _Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.generator = nn.Conv2d(3, 3, 1)


def test_rules_parse_in_order_and_bad_ones_are_refused():
    assert parse_revise_keys(None) == DEFAULT_REVISE_KEYS
    assert parse_revise_keys([r'^module\.=', 'a=b=c']) == ((r'^module\.', ''), ('a', 'b=c'))
    with pytest.raises(ValueError, match='expected REGEX=REPL'):
        parse_revise_keys(['no_equals'])
    with pytest.raises(ValueError, match='bad regular expression'):
        parse_revise_keys(['(unclosed='])


def test_rules_apply_in_order_and_refuse_two_keys_renamed_to_one():
    state = {'module.net.w': torch.zeros(1), 'module.net.b': torch.ones(1)}
    assert list(revise_keys(state, [(r'^module\.', ''), (r'^net\.', 'x.')])) == ['x.w', 'x.b']
    with pytest.raises(CheckpointMismatchError, match="two keys to 'w'"):
        revise_keys({'a.w': torch.zeros(1), 'b.w': torch.zeros(1)}, [(r'^\w\.', '')])


@pytest.mark.parametrize('wrap', [None, 'state_dict', 'params', 'model'])
def test_the_tensors_are_found_wherever_they_are_kept(tmp_path, wrap):
    state = {'weight': torch.ones(3, 3, 1, 1), 'bias': torch.zeros(3)}
    torch.save(state if wrap is None else {wrap: state, 'epoch': 3}, tmp_path / 'w.pth')
    found = read_checkpoint(tmp_path / 'w.pth')
    assert found.keys() == state.keys()
    fitted = fit_keys(_Model(), found)   # a generator's own dict goes under generator.
    assert sorted(fitted) == ['generator.bias', 'generator.weight']


def test_a_file_without_tensors_names_what_it_holds(tmp_path):
    torch.save({'epoch': 3, 'meta': {'a': 1}}, tmp_path / 'w.pth')
    with pytest.raises(CheckpointMismatchError, match=r'found: epoch, meta'):
        read_checkpoint(tmp_path / 'w.pth')
