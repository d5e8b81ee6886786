"""config_hash: a function of the config data, not of its formatting or of the formatter."""
from mmengine.config import Config

from danet.utils.provenance import config_hash

COMPACT = "model = dict(type='Net', depth=4, sizes=(1, 2))\nlr = 2e-4\nwork_dir = 'a'\n"
SPREAD = '''# the same experiment, written differently
lr = 0.0002


model = {
    "sizes": (1, 2),     # tuple
    "depth": 4,
    "type": "Net",
}
work_dir = "somewhere/else"   # where, not what: not hashed
'''


def _load(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return Config.fromfile(str(path))


def test_formatting_and_key_order_do_not_change_the_hash(tmp_path):
    assert config_hash(_load(tmp_path, 'a.py', COMPACT)) == \
        config_hash(_load(tmp_path, 'b.py', SPREAD))


def test_a_changed_value_changes_the_hash(tmp_path):
    changed = COMPACT.replace('depth=4', 'depth=5')
    assert config_hash(_load(tmp_path, 'a.py', COMPACT)) != \
        config_hash(_load(tmp_path, 'c.py', changed))


def test_hash_does_not_use_the_formatter(tmp_path, monkeypatch):
    cfg = _load(tmp_path, 'a.py', COMPACT)
    expected = config_hash(cfg)

    def no_yapf(self):
        raise AssertionError('config_hash must not format the config text')
    monkeypatch.setattr(Config, 'pretty_text', property(no_yapf))
    assert config_hash(cfg) == expected
