"""Bad ``--revise-keys`` rules and unreadable checkpoint files: one ``error:`` line naming the
option or the file, exit 2, through a real tool's entry point."""
import pytest
import torch

from danet.models.checkpoint import parse_revise_keys, read_checkpoint, revise_keys
from danet.utils.cli import run_main
from tools import convert_checkpoint


def _tool(capsys, *args) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        run_main(lambda: convert_checkpoint.main([str(a) for a in args]))
    return done.value.code, capsys.readouterr().err


@pytest.mark.parametrize('rule, says', [
    (r'^net\.(.*)=\2', r"bad replacement '\\2' for '^net\\.(.*)' (invalid group reference 2"),
    ('^net\\.=\\', "bad replacement '\\\\' for '^net\\\\.' (bad escape"),
    (r'^(?P<x>n)=\g<y>', "unknown group name 'y'"),
    ('(unclosed=x', "bad regular expression '(unclosed'"),
    ('no_equals', 'expected REGEX=REPL'),
])
def test_a_bad_rule_is_one_line_naming_the_option_and_the_rule(tmp_path, capsys, rule, says):
    src = tmp_path / 'w.pth'
    torch.save({'net.w': torch.zeros(1)}, src)
    code, err = _tool(capsys, '--arch', 'prenet', src, tmp_path / 'out.pth', '--revise-keys',
                      rule)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and 'Traceback' not in err, err
    assert lines[0].startswith(f'error: --revise-keys {rule!r}') and says in lines[0], lines
    assert not (tmp_path / 'out.pth').exists()


def test_an_equals_sign_inside_the_regex_is_written_backslash_equals():
    rules = parse_revise_keys([r'^net\.(?\=conv)=generator.', 'a=b=c'])
    assert rules == ((r'^net\.(?=conv)', 'generator.'), ('a', 'b=c'))
    state = {'net.conv1': torch.zeros(1), 'net.bn': torch.zeros(1)}
    assert list(revise_keys(state, rules[:1])) == ['generator.conv1', 'net.bn']
    assert parse_revise_keys([r'k\=v=x']) == (('k=v', 'x'),)  # a literal '=' in a key


@pytest.mark.parametrize('name, content', [
    ('empty.pth', b''),
    ('truncated.pth', None),
    ('weights.safetensors', b'\x10\x00\x00\x00\x00\x00\x00\x00{"__metadata__":{}}'),
])
def test_an_unreadable_checkpoint_is_one_line_naming_the_file(tmp_path, capsys, name, content):
    path = tmp_path / name
    if content is None:
        torch.save({'w': torch.zeros(64)}, path)
        content = path.read_bytes()[:200]
    path.write_bytes(content)
    with pytest.raises(ValueError, match='not a readable PyTorch checkpoint'):
        read_checkpoint(path)
    code, err = _tool(capsys, '--arch', 'prenet', path, tmp_path / 'out.pth')
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and str(path) in lines[0], err
    assert ('.safetensors' in lines[0]) == name.endswith('.safetensors')
