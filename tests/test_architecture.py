"""The layers of docs/architecture.md, the declared dependencies and the house rules of
DESIGN.md, checked from the source.

Every module's imports (module level and inside functions) are parsed with ``ast``; an arrow the
layer table does not allow fails, naming the file, the line and the rule. No exceptions list for
the layers. The house rules (no import circles, no ``parents[N]`` in the library, the library
never runs a tool by its path, no private runner attributes, model files without kernel tricks)
keep a ``KNOWN`` list per rule of the files that still break it, each with its issue: a new
breach fails, and so does an entry that no longer breaks the rule (the list only shrinks).
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
    ('danet.commands',),   # each command's flags, once: ``python -m danet`` and the tools' shims
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


# ------------------------------------------------------------------ house rules (issue 31)
# rule -> {file (or circle) still breaking it: the issue that removes it}
KNOWN: dict[str, dict[str, int]] = {
    'circle': {},
    'parents': {},
    'tool path': {},
    'private runner': {'danet/engine/runner.py': 31, 'danet/engine/hooks.py': 31},
    'kernel trick': {},
}
TOOL_MODULES = ('ablations', 'analysis', 'data_tools', 'tools')
# what a model file must not reach for: autograd-dependent paths (in-place inference code),
# backend kernels, compiler checks (danet/engine/rewrites.py owns them)
KERNEL_TRICKS = {'is_grad_enabled', 'inference_mode', 'mkldnn', 'mkldnn_convolution',
                 'is_compiling', 'OneDNNConv2d'}
SIDE_CHANNELS = {'train_test_overlap'}   # set on the runner by hand instead of travelling as config


def _graph(modules) -> dict[str, set[str]]:
    """Module -> the project modules it imports (``from pkg import mod`` goes to ``pkg.mod``)."""
    known = {m for _, m in modules}
    graph = {}
    for path, module in modules:
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                package = module.split('.') if path.name == '__init__.py' else \
                    module.split('.')[:-1]
                base = package[:len(package) - node.level + 1] if node.level else []
                target = '.'.join(base + ([node.module] if node.module else []))
                names = [f'{target}.{a.name}' if f'{target}.{a.name}' in known else target
                         for a in node.names]
            for name in names:
                while name and name not in known:
                    name = name.rpartition('.')[0]
                if name and name != module:
                    deps.add(name)
        graph[module] = deps
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _docstrings(tree) -> set[int]:
    return {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and n.body and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)}


def _house_breaches(path: Path, rel: str) -> dict[str, list[str]]:
    """Rule -> 'file:line what' for every breach of a house rule in one library file."""
    tree = ast.parse(path.read_text(), str(path))
    docs = _docstrings(tree)
    found: dict[str, list[str]] = {}

    def add(rule, node, what):
        found.setdefault(rule, []).append(f'{rel}:{node.lineno} {what}')
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == 'parents' and any(
                isinstance(n, ast.Name) and n.id == '__file__' for n in ast.walk(node.value)):
            add('parents', node, 'looks for the clone with Path.parents')
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                id(node) not in docs and re.fullmatch(r'(\S*/)?tools/[\w-]+\.(py|sh)', node.value):
            add('tool path', node, f'runs {node.value!r} by its path')
        if isinstance(node, ast.List | ast.Tuple | ast.Call):
            items = node.args if isinstance(node, ast.Call) else node.elts
            values = [e.value if isinstance(e, ast.Constant) else None for e in items]
            for first, second in zip(values, values[1:], strict=False):
                if first == '-m' and second in TOOL_MODULES:
                    add('tool path', node, f'runs -m {second}')
        if isinstance(node, ast.Attribute) and (
                (node.attr.startswith('_') and not node.attr.startswith('__'))
                or node.attr in SIDE_CHANNELS):
            owner = node.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, 'attr', '')
            if name == 'runner':
                add('private runner', node, f'uses runner.{node.attr}')
        if rel.startswith('danet/models/'):
            name = node.attr if isinstance(node, ast.Attribute) else \
                node.id if isinstance(node, ast.Name) else \
                node.name if isinstance(node, ast.ClassDef) else None
            if name in KERNEL_TRICKS:
                add('kernel trick', node, f'{name} in a model file (belongs to '
                                          'danet/engine/rewrites.py)')
    return found


def _house_report(root: Path) -> dict[str, dict[str, list[str]]]:
    """Rule -> {file (circle: its modules joined by ' <-> '): breaches} over the project."""
    report: dict[str, dict[str, list[str]]] = {rule: {} for rule in KNOWN}
    modules = list(_modules_under(root))
    for circle in _circles(_graph(modules)):
        name = ' <-> '.join(circle)
        report['circle'][name] = [f'{name}: import circle (deferred imports count)']
    for path, _ in modules:
        rel = path.relative_to(root).as_posix()
        if not rel.startswith('danet/'):
            continue
        for rule, breaches in _house_breaches(path, rel).items():
            report[rule].setdefault(rel, []).extend(breaches)
    return report


def _modules_under(root: Path):
    for top in PROJECT:
        for path in sorted((root / top).rglob('*.py')):
            yield path, '.'.join(path.relative_to(root).with_suffix('').parts).removesuffix(
                '.__init__')


def test_house_rules_hold_outside_the_shrinking_known_lists():
    report = _house_report(ROOT)
    new = [line for rule, files in report.items() for f, lines in files.items()
           if f not in KNOWN[rule] for line in lines]
    fixed = [f'{rule}: {f} (issue {issue})' for rule, files in KNOWN.items()
             for f, issue in files.items() if f not in report[rule]]
    assert not new, 'house rules (DESIGN.md "Rules we keep") broken:\n' + '\n'.join(new)
    assert not fixed, ('these no longer break their rule: remove them from KNOWN in '
                       'tests/test_architecture.py:\n' + '\n'.join(fixed))


def test_the_house_checker_sees_each_kind_of_breach(tmp_path):
    for top in PROJECT:
        (tmp_path / top).mkdir()
    lib = tmp_path / 'danet'
    (lib / '__init__.py').write_text('')
    (lib / 'a.py').write_text('def f():\n    from danet import b\n')      # deferred: counts
    (lib / 'b.py').write_text('from danet.a import f\n')
    (lib / 'clone.py').write_text(
        '"""Runs tools/train.py."""\nfrom pathlib import Path\n'
        "ROOT = Path(__file__).resolve().parents[2]\nARGV = ['python', 'tools/test.py']\n"
        "MOD = ('python', '-m', 'analysis', 'report')\n")
    (lib / 'loop.py').write_text('def f(runner):\n    return runner._test_loop, '
                                 'runner.train_test_overlap, runner.__class__\n')
    (lib / 'models').mkdir()
    (lib / 'models' / '__init__.py').write_text('')
    (lib / 'models' / 'net.py').write_text(
        'import torch\n\n\ndef f(x):\n    if not torch.is_grad_enabled():\n'
        '        return x.relu_()\n    return torch.mkldnn_convolution(x)\n')
    report = _house_report(tmp_path)
    assert list(report['circle']) == ['danet.a <-> danet.b']
    assert report['parents'] == {'danet/clone.py': ['danet/clone.py:3 looks for the clone with '
                                                    'Path.parents']}
    assert sorted(line.split(' ', 1)[1] for line in report['tool path']['danet/clone.py']) == [
        "runs 'tools/test.py' by its path", 'runs -m analysis']     # not the docstring
    assert len(report['private runner']['danet/loop.py']) == 2     # not runner.__class__
    assert len(report['kernel trick']['danet/models/net.py']) == 2
