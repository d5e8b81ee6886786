"""The ``danet`` registries: every default-buildable member builds, names are unique, typos help."""
import inspect

import pytest
from mmengine.registry import MODELS as MMENGINE_MODELS

from danet.registry import ALL_REGISTRIES, MODELS, DerainRegistry


def _members():
    for name, registry in ALL_REGISTRIES.items():
        registry.import_from_location()
        for key, obj in registry.module_dict.items():
            yield pytest.param(registry, key, obj, id=f'{name}:{key}')


def _buildable_with_defaults(obj) -> bool:
    if not inspect.isclass(obj):
        return False
    params = list(inspect.signature(obj.__init__).parameters.values())[1:]
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return all(p.default is not inspect.Parameter.empty or p.kind in variadic for p in params)


def test_every_root_has_a_danet_child():
    assert len(ALL_REGISTRIES) == 23
    for registry in ALL_REGISTRIES.values():
        assert isinstance(registry, DerainRegistry)
        assert registry.scope == 'danet' and registry.parent is not None


@pytest.mark.parametrize('registry,key,obj', list(_members()))
def test_member_builds_with_defaults(registry, key, obj):
    if not _buildable_with_defaults(obj):
        pytest.skip(f'{key} needs arguments')
    built = registry.build(dict(type=key))
    assert isinstance(built, obj)


def test_no_name_shadows_or_repeats_across_the_tree():
    for registry in ALL_REGISTRIES.values():
        registry.import_from_location()
        own = set(registry.module_dict)
        parent = set(registry.parent.module_dict)
        assert not own & parent, f'{registry.name}: names shadow mmengine: {own & parent}'
    # one flat MODELS namespace: a second registration under the same name is refused
    name = next(iter(MODELS.module_dict), None)
    if name is not None:
        with pytest.raises(KeyError, match='already registered'):
            MODELS.register_module(name=name, module=type('Dup', (), {}))


def test_unknown_type_names_registry_and_close_matches():
    MODELS.register_module(name='SpellingProbeNet', module=type('SpellingProbeNet', (), {}),
                           force=True)
    try:
        with pytest.raises(KeyError) as err:
            MODELS.build(dict(type='SpelingProbeNet'))
        message = str(err.value)
        assert 'danet::model' in message and 'SpellingProbeNet' in message
    finally:
        MODELS.module_dict.pop('SpellingProbeNet')


def test_unknown_type_through_the_mmengine_root_under_default_scope():
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('danet'):
        with pytest.raises(KeyError, match='danet::model'):
            MMENGINE_MODELS.build(dict(type='NoSuchNetAnywhere'))


def test_the_scan_finds_every_module_that_registers_something():
    """Each registry's modules are found by scanning ``danet`` (no hand-kept list): the scanned
    modules are exactly those that define the registry's members."""
    from danet.registry import registering_modules
    scanned = registering_modules()
    for name, registry in ALL_REGISTRIES.items():
        registry.import_from_location()
        defining = {getattr(obj, '__module__', '') for obj in registry.module_dict.values()}
        defining = {m for m in defining if m.startswith('danet.') and m != 'danet.scaffold'}
        assert set(scanned.get(registry.scanned, ())) == defining, name
    assert 'danet.models.prenet' in scanned['MODELS']
    assert 'danet.evaluation.metrics' in scanned['METRICS']


def test_a_new_model_file_is_found_without_editing_the_registry(tmp_path, monkeypatch):
    import sys

    import danet.models
    from danet.registry import registering_modules
    (tmp_path / 'probe_net.py').write_text(
        'from torch import nn\n\nfrom danet.models.base import Generator\n'
        'from danet.registry import MODELS\n\n\n@MODELS.register_module()\n'
        'class ProbeScanNet(Generator):\n    def forward(self, x):\n        return [x]\n')
    (tmp_path / 'probe_helpers.py').write_text('HELP = 1\n')   # registers nothing
    monkeypatch.setattr(danet.models, '__path__', [*danet.models.__path__, str(tmp_path)])
    monkeypatch.setattr(MODELS, '_imported', False)
    monkeypatch.setattr(MODELS, '_locations', [])
    registering_modules.cache_clear()
    try:
        assert 'danet.models.probe_net' in registering_modules()['MODELS']
        assert not any('probe_helpers' in m for ms in registering_modules().values() for m in ms)
        assert type(MODELS.build(dict(type='ProbeScanNet'))).__name__ == 'ProbeScanNet'
    finally:
        MODELS.module_dict.pop('ProbeScanNet', None)
        sys.modules.pop('danet.models.probe_net', None)
        registering_modules.cache_clear()
