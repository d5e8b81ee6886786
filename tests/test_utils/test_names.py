"""The name gate: what stays one path component inside its folder passes, nothing else does."""
import os

import pytest

from danet.utils.names import BadNameError, check_name, check_unique


@pytest.mark.parametrize('name', ['Rain100L', 'rain-100_h', 'DANet (ours)', 'a.b', 'x+y=z',
                                  'PReNet r6', 'é', 'a' * 200])
def test_a_plain_name_passes_and_is_returned(name, tmp_path):
    assert check_name(name, '--testset') == name
    (tmp_path / name).write_text('x')   # and it really is one file inside the folder
    assert os.listdir(tmp_path) == [name]


@pytest.mark.parametrize('name, problem', [
    ('', 'empty'), ('../x', 'separator'), ('a/b', 'separator'), ('a\\b', 'separator'),
    ('..', "'..'"), ('a..b', "'..'"), ('.hidden', 'dot'), ('.', 'dot'),
    ('a\x01b', 'control'), ('a\x00', 'control'), ('a\tb', 'control'), ('a\nb', 'control'),
    ('a\u200bb', 'non-printing'), ('a\udcffb', 'non-printing'), ('a\u00a0b', 'non-printing'),
    (' a', 'space'), ('a ', 'space'), ('a*', 'glob'), ('set[1]', 'glob'), ('a?', 'glob'),
    ('a' * 201, '200 bytes'), ('é' * 101, '200 bytes')])
def test_a_name_that_escapes_or_hides_is_refused_naming_the_option(name, problem):
    with pytest.raises(BadNameError) as err:
        check_name(name, '--suffix')
    message = str(err.value)
    assert message.startswith('--suffix') and problem in message and '\n' not in message


def test_a_non_string_is_refused_as_such():
    with pytest.raises(BadNameError, match='expected a name, got int'):
        check_name(3, 'testsets')


def test_bad_name_error_is_a_value_error_so_the_tools_exit_2():
    assert issubclass(BadNameError, ValueError)


def test_unique_names_keep_their_order():
    assert check_unique(iter(['b', 'a', 'c']), '--testsets') == ['b', 'a', 'c']


@pytest.mark.parametrize('names, shown', [
    (['A', 'B', 'A'], "'A' is given twice"),
    (['rain', 'Rain'], "'Rain' is given twice (as 'rain')"),            # one file on macOS
    (['\u00e9', 'e\u0301'], 'given twice'),                               # composed or not
])
def test_a_repeat_is_refused(names, shown):
    with pytest.raises(BadNameError, match='^--testsets') as err:
        check_unique(names, '--testsets')
    assert shown in str(err.value)


def test_unique_also_checks_each_name():
    with pytest.raises(BadNameError, match='separator'):
        check_unique(['ok', 'a/b'], '--method')
