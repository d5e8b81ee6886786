"""The layers of docs/architecture.md and the declared dependencies, checked from the source.

Every module's imports (module level and inside functions) are parsed with ``ast``; an arrow the
layer table does not allow fails, naming the file, the line and the rule. No exceptions list.
"""
import ast
import configparser
import importlib.metadata
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ('danet', 'data_tools', 'ablations', 'analysis', 'tools')

# unit -> the units it may import (besides itself); a unit is a package of danet/ or a top-level
# folder. Lower layers never import higher ones; siblings of one layer never import each other.
DANET_LAYERS = [
    ('danet', 'danet.registry', 'danet.structures'),
    ('danet.utils',),
    ('danet.evaluation',),
    ('danet.datasets', 'danet.models'),
    ('danet.engine',),
    ('danet.apis', 'danet.scaffold'),   # the scaffold writes text: no torch to import
    ('danet.benchmarks',),  # measures what apis offers; apis never imports it
    ('danet.__main__',),   # ``python -m danet``: the package's command line, above what it drives
]
ALLOWED: dict[str, set[str]] = {}
for _level, _units in enumerate(DANET_LAYERS):
    _below = {u for units in DANET_LAYERS[:_level] for u in units}
    for _unit in _units:
        ALLOWED[_unit] = _below
_ALL_DANET = {u for units in DANET_LAYERS for u in units}
for _top in ('data_tools', 'ablations', 'tools'):
    ALLOWED[_top] = set(_ALL_DANET)
# analysis reads stored files only: never models, never (re-)evaluation, never the runner
ANALYSIS_MAY_IMPORT = ('danet.utils', 'danet.evaluation.metric_table', 'danet.evaluation.results',
                       'danet.datasets.image_files')


def _unit(module: str) -> str | None:
    """The layer unit of a dotted module name (None: not the project's)."""
    parts = module.split('.')
    if parts[0] not in PROJECT:
        return None
    if parts[0] != 'danet' or len(parts) == 1:
        return parts[0]
    candidate = '.'.join(parts[:2])
    return candidate if candidate in _ALL_DANET else 'danet'


def _modules():
    for top in PROJECT:
        for path in sorted((ROOT / top).rglob('*.py')):
            yield path, '.'.join(path.relative_to(ROOT).with_suffix('').parts).removesuffix(
                '.__init__')


def _imports(path: Path, module: str):
    """(line, imported module) for every import in the file, function-local ones included."""
    package = module.split('.') if path.name == '__init__.py' else module.split('.')[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            target = '.'.join(base + ([node.module] if node.module else []))
            if node.module is None or node.level:  # `from . import x`: x may be a module
                yield from ((node.lineno, f'{target}.{a.name}'.strip('.')) for a in node.names)
            else:
                yield node.lineno, target


def _violations() -> list[str]:
    found = []
    for path, module in _modules():
        unit = _unit(module)
        for line, target in _imports(path, module):
            other = _unit(target)
            if other is None or other == unit:
                continue
            where = f'{path.relative_to(ROOT)}:{line} imports {target}'
            if unit == 'analysis':
                if not target.startswith(ANALYSIS_MAY_IMPORT):
                    found.append(f'{where}: analysis may import only '
                                 f'{", ".join(ANALYSIS_MAY_IMPORT)}')
            elif other not in ALLOWED[unit]:
                found.append(f'{where}: {unit} may not import {other}')
    return found


def test_no_import_goes_against_the_layers():
    violations = _violations()
    assert not violations, 'imports against docs/architecture.md:\n' + '\n'.join(violations)


def test_the_checker_sees_wrong_way_and_function_local_imports(tmp_path, monkeypatch):
    fake = tmp_path / 'danet' / 'utils'
    fake.mkdir(parents=True)
    (fake / 'bad.py').write_text('def f():\n    from danet.models.common import conv\n')
    (tmp_path / 'danet' / 'apis').mkdir()
    (tmp_path / 'danet' / 'apis' / 'bad.py').write_text('from danet.benchmarks import latency\n')
    (tmp_path / 'analysis').mkdir()
    (tmp_path / 'analysis' / 'bad.py').write_text('import danet.evaluation.functional\n')
    monkeypatch.setattr(sys.modules[__name__], 'ROOT', tmp_path)
    for top in PROJECT:
        (tmp_path / top).mkdir(exist_ok=True)
    found = _violations()
    assert any('danet/utils/bad.py:2' in v and 'danet.utils may not import danet.models' in v
               for v in found)
    assert any('danet/apis/bad.py:1' in v and 'danet.apis may not import danet.benchmarks' in v
               for v in found)
    assert any('analysis/bad.py:1' in v for v in found) and len(found) == 3


def _declared() -> set[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / 'setup.cfg')
    lines = cfg['options']['install_requires'].splitlines()
    for extra in cfg['options.extras_require'].values():
        lines += extra.splitlines()
    names = (re.match(r'[A-Za-z0-9._-]+', line.strip()) for line in lines if line.strip())
    return {_normal(m.group()) for m in names if m}


def _normal(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()


def test_every_third_party_import_is_declared_in_setup_cfg():
    distributions = importlib.metadata.packages_distributions()
    declared = _declared()
    undeclared = []
    for path, module in _modules():
        for line, target in _imports(path, module):
            name = target.split('.')[0]
            if name in sys.stdlib_module_names or name in PROJECT:
                continue
            dists = distributions.get(name)
            if not dists or not declared & {_normal(d) for d in dists}:
                undeclared.append(f'{path.relative_to(ROOT)}:{line} imports {name} '
                                  f'(distribution {", ".join(dists or ["not installed"])})')
    assert not undeclared, 'declare these in setup.cfg install_requires:\n' + '\n'.join(undeclared)
