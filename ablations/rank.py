"""``python -m ablations rank CONFIG CKPT --testsets ... --protocol P``: a checkpoint vs the zoo.

The layering: evaluation happens here, through ``python -m danet test`` (the entry point a grid's
test stage uses), and the ranking is read from the stored results by ``python -m analysis rank``
(analysis never evaluates). Steps, each a process:

1. options first: the protocol, the config (a file or ``danet::PATH``), the checkpoint, every
   test set (``NAME`` of the config or ``NAME=PATH``, names through ``danet.utils.names``), the
   ``--gt`` folders and every zoo grid and checkpoint are checked before anything runs;
2. zoo grids whose cells train (no cell ``checkpoint``) are trained by ``python -m ablations run``
   (cached under ``WORK_ROOT/<grid>`` as any grid run);
3. every method (the candidate and each zoo run) is evaluated on each test set under ``P`` with
   ``--save-images`` into ``WORK_ROOT/rank/cache/<key>``, unless that folder holds the result:
   the key (``evaluation_key``) hashes everything that changes the number; an entry is written
   whole or not at all, one evaluator at a time (``cache_entry``);
4. ``python -m analysis rank`` reads the ``rank_manifest.json`` this writes into ``--out`` and
   writes the table, the statistics and the figures there.
"""
import errno
import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ablations.grid import expand, load_grid, parse_testsets
from ablations.runner import run_dir_of
from ablations.spec import REPO_ROOT, RunSpec, cfg_option_args
from ablations.stages import StageError, read_checkpoint_pointer
from danet.config_refs import PACKAGE_PREFIX, shipped_config
from danet.evaluation import protocols
from danet.evaluation.results import ResultsError, read_results
from danet.utils.fileio import atomic_dir, atomic_write_json
from danet.utils.hashing import file_sha256
from danet.utils.names import check_name

_RAIN13K = 'restormer_release_rain13k'
ZOO = {'Rain100L': ('prenet_readme_rain100l', _RAIN13K),
       'Rain100H': ('prenet_readme_rain100h', _RAIN13K),
       'Test100': (_RAIN13K,), 'Test1200': (_RAIN13K,), 'Test2800': (_RAIN13K,),
       'Rain200H': ('drsformer_release_rain200',), 'Rain200L': ('drsformer_release_rain200l',)}
"""Released-weight zoo grids of each test set (convert the releases first, into their default
folders or one ``--weights-dir``: docs/reproductions.md); a ``NAME=PATH`` test set is ranked
against all of them. By default a grid none of whose checkpoints exists is left out, with a note
(``default_zoo``)."""
MANIFEST = 'rank_manifest.json'


@dataclass
class Method:
    """One evaluated model: a config (with overrides) and a checkpoint, shown as ``label``."""
    label: str
    role: str                       # 'candidate' or 'zoo'
    config: Path
    checkpoint: Path | None          # a zoo cell that trains: its run's, once trained
    overrides: dict = field(default_factory=dict)
    seed: int | None = None
    run_dir: Path | None = None      # the grid run of a zoo method


def resolve_config(ref: str) -> Path:
    """A config file or ``danet::PATH`` → an absolute path; ``FileNotFoundError`` naming it."""
    path = shipped_config(ref) if ref.startswith(PACKAGE_PREFIX) else Path(ref).resolve()
    if not path.is_file():
        raise FileNotFoundError(f'config not found: {ref}')
    return path


def resolved_config(method: Method):
    """The method's config with its overrides merged (what its evaluation runs)."""
    from danet.utils.config import load_config
    cfg = load_config(method.config)
    cfg.merge_from_dict(method.overrides)
    return cfg


def testset_source(cfg, name: str, path: str | None) -> Path:
    """The file or folder a test set reads: ``path``, else the config's test set ``name``."""
    from danet.engine.runner import select_testsets, testset_name
    if path is not None:
        return Path(path)
    loaders = cfg.test_dataloader if isinstance(cfg.test_dataloader, list) \
        else [cfg.test_dataloader]
    loader = loaders[select_testsets(cfg, [name])[0]]
    assert testset_name(loader) == name
    source = Path(loader['dataset']['ann_file'])
    return source if source.is_absolute() else REPO_ROOT / source


def testset_hash(source: Path) -> str:
    """The content hash of a test set: a packed file's ``content_hash`` (the ``dataset_hash``
    of its results), else its bytes; a folder: every file's relative path and bytes."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f'test set not found: {source}')
    if source.is_dir():
        digest = hashlib.sha256()
        for path in sorted(p for p in source.rglob('*') if p.is_file()):
            digest.update(f'{path.relative_to(source).as_posix()}\0{file_sha256(path)}\n'.encode())
        return digest.hexdigest()
    try:
        import h5py
        with h5py.File(source, 'r') as f:
            stored = f.attrs.get('content_hash')
        if isinstance(stored, bytes | str) and stored:
            return stored.decode() if isinstance(stored, bytes) else stored
    except (OSError, ValueError, RuntimeError, KeyError):   # not HDF5 or damaged: its bytes
        pass
    return file_sha256(source)


def evaluation_key(protocol: str, checkpoint_sha: str, config_hash: str, testset: str,
                   dataset_hash: str) -> str:
    """The cache key of one evaluation: everything that changes its number (the protocol, the
    checkpoint's content, the resolved config, the test set's name and content, and the metric
    code's ``METRICS_VERSION``)."""
    return hashlib.sha256(json.dumps({
        'protocol': protocol, 'checkpoint_sha256': checkpoint_sha, 'config_hash': config_hash,
        'testset': testset, 'dataset_hash': dataset_hash,
        'metrics_version': protocols.METRICS_VERSION}, sort_keys=True).encode()).hexdigest()


class Evaluations:
    """Cache folders ``WORK_ROOT/rank/cache/<key>``; file hashes are computed once per call."""

    def __init__(self, work_root: Path, protocol: str, testsets: dict[str, str | None]):
        self.root = Path(work_root) / 'rank' / 'cache'
        self.protocol, self.testsets = protocol, testsets
        self._sha: dict[Path, str] = {}
        self._configs: dict[str, tuple] = {}

    def _hash(self, path: Path, how) -> str:
        if path not in self._sha:
            self._sha[path] = how(path)
        return self._sha[path]

    def folder(self, method: Method, testset: str) -> tuple[Path, dict]:
        """The cache folder of ``method`` on ``testset`` and the inputs of its key."""
        from danet.utils.provenance import config_hash
        which = json.dumps([str(method.config), method.overrides], sort_keys=True, default=str)
        if which not in self._configs:
            cfg = resolved_config(method)
            self._configs[which] = cfg, config_hash(cfg)
        cfg, cfg_hash = self._configs[which]
        try:
            source = testset_source(cfg, testset, self.testsets[testset])
        except ValueError as err:
            raise ValueError(f'{method.label} ({method.config}): {err}') from None
        inputs = dict(protocol=self.protocol,
                      checkpoint_sha=self._hash(method.checkpoint, file_sha256),
                      config_hash=cfg_hash, testset=testset,
                      dataset_hash=self._hash(source.resolve(), testset_hash))
        return self.root / evaluation_key(**inputs)[:24], inputs

    def evaluate(self, method: Method, testset: str) -> Path:
        """The folder holding ``method``'s results on ``testset``, evaluating it if missing."""
        folder, inputs = self.folder(method, testset)

        def have(entry: Path) -> bool:
            try:
                read_results(entry / 'results' / f'{testset}.json')
                return True
            except (ResultsError, OSError):
                return False

        def make(tmp: Path) -> None:
            path = self.testsets[testset]
            options = cfg_option_args(method.overrides)
            _step(['-m', 'danet', 'test', method.config, method.checkpoint,
                   '--work-dir', tmp, '--testsets', testset if path is None else
                   f'{testset}={path}', '--protocol', self.protocol, '--save-images',
                   *(['--cfg-options', *options] if options else [])])
            atomic_write_json(tmp / 'key.json', dict(
                inputs, metrics_version=protocols.METRICS_VERSION, config=str(method.config),
                overrides=method.overrides, checkpoint=str(method.checkpoint)))

        return cache_entry(folder, have, make)


def cache_entry(folder: Path, have: Callable[[Path], bool], make: Callable[[Path], None],
                on_wait: Callable[[], None] | None = None) -> Path:
    """``folder``, a whole cache entry: reused when ``have(folder)``, else made by ``make`` in a
    hidden folder renamed onto it (``atomic_dir``), so an entry appears whole or not at all. A
    POSIX lock per entry (``.<name>.lock`` beside it; the kernel drops it when its holder dies)
    makes a second evaluator of one entry wait for the first (``on_wait`` is called, default: a
    line saying so) and then reuse its entry; the holder removes an entry that fails ``have`` and
    the hidden folders of killed evaluations of it."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f'.{folder.name}.lock', 'a') as guard:
        try:
            fcntl.lockf(guard, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            (on_wait or (lambda: print(f'{folder}: another rank evaluates this entry; waiting '
                                       'for it', flush=True)))()
            fcntl.lockf(guard, fcntl.LOCK_EX)
        if have(folder):
            return folder
        for left in folder.parent.iterdir():   # no other evaluator of this entry is running
            if left.name.startswith(f'.{folder.name}.') and left.name.endswith('.tmp'):
                shutil.rmtree(left, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
        with atomic_dir(folder) as tmp:
            make(tmp)
    return folder


def _step(argv: list) -> None:
    print('$ ' + ' '.join(map(str, argv)), flush=True)
    code = subprocess.run([sys.executable, *map(str, argv)], cwd=REPO_ROOT).returncode
    if code:
        raise RuntimeError(f'rank: step failed (exit {code}): {" ".join(map(str, argv))}')


def parse_gts(gts: list[str], testsets: dict) -> dict[str, Path]:
    """``--gt TESTSET=DIR`` entries, each naming a ranked test set and an existing folder."""
    found = {}
    for entry in gts:
        name, _, folder = entry.partition('=')
        check_name(name, '--gt test set')
        if name not in testsets or not folder:
            raise ValueError(f'--gt {entry!r}: expected TESTSET=DIR with TESTSET one of '
                             f'{", ".join(testsets)}')
        if not Path(folder).is_dir():
            raise FileNotFoundError(f'--gt {entry!r}: no such folder')
        found[name] = Path(folder).resolve()
    return found


def zoo_methods(grid_names: list[str], work_root: Path) -> tuple[list[Method], list]:
    """The zoo's methods (one per grid run) and the grids whose cells must train first. Labels
    are the runs' variant names; runs of one variant and seed that differ only in checkpoint get
    the checkpoint's name too (two checkpoints are two rows, never averaged as seeds)."""
    methods, to_train = [], []
    for grid in map(load_grid, grid_names):
        specs = expand(grid)
        if any(s.checkpoint is None for s in specs):
            to_train.append(grid)
        for spec in specs:
            methods.append(Method(_variant(spec), 'zoo', _grid_config(spec),
                                  _checkpoint_of(spec), spec.overrides, spec.seed,
                                  run_dir_of(work_root, spec)))
    seen: dict[tuple, set] = {}
    for m in methods:
        seen.setdefault((m.label, m.seed), set()).add(m.checkpoint or m.run_dir)
    for m in methods:
        if len(seen[(m.label, m.seed)]) > 1 and m.checkpoint is not None:
            m.label = f'{m.label} [{m.checkpoint.stem}]'
    labels = [(m.label, m.seed) for m in methods]
    if len(set(labels)) != len(labels):
        raise ValueError('zoo: two runs share the name and seed '
                         f'{sorted({x for x in labels if labels.count(x) > 1})}; label their '
                         'cells apart')
    return methods, to_train


def _variant(spec: RunSpec) -> str:
    return ' / '.join(a.label for k, a in spec.axes.items()
                      if not k.split('.')[-1].endswith('seed')) or 'base'


def _grid_config(spec: RunSpec) -> Path:
    return Path(spec.base) if Path(spec.base).is_absolute() else REPO_ROOT / spec.base


def _checkpoint_of(spec: RunSpec) -> Path | None:
    """An evaluate-only cell's checkpoint (relative to the repository root, where stages run);
    None for a trained cell until its grid has run."""
    if spec.checkpoint is None:
        return None
    path = _resolved(spec.checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f'zoo grid {spec.grid}, run {spec.run_id}: checkpoint not found: '
                                f'{spec.checkpoint} (released weights: convert them first, '
                                'docs/reproductions.md)')
    return path


def default_zoo(sets: dict[str, str | None]) -> list[str]:
    """The ``ZOO`` grids of the ranked test sets (every grid for a ``NAME=PATH`` set), less those
    whose evaluate-only checkpoints are all missing (released weights not converted: a note
    names each). When that leaves none, all are kept, so the missing checkpoint is named."""
    grids = list(dict.fromkeys(g for t, path in sets.items()
                               for g in (ZOO[t] if path is None else
                                         (g for gs in ZOO.values() for g in gs))))
    present, absent = [], []
    for name in grids:
        specs = expand(load_grid(name))
        weights = [_resolved(s.checkpoint) for s in specs if s.checkpoint]
        has = not weights or any(w.is_file() for w in weights)
        (present if has else absent).append(name)
        if not has:
            print(f'rank: zoo grid {name} left out: its weights are not there ({weights[0]}; '
                  'docs/reproductions.md)', flush=True)
    return present or absent


def _resolved(checkpoint: str) -> Path:
    path = Path(checkpoint)
    return path if path.is_absolute() else REPO_ROOT / path


def rank(config: str, checkpoint: str, testsets: list[str], protocol: str, out: Path,
         work_root: Path, zoo: list[str] | None = None, gts: list[str] = ()) -> int:
    """Check every option, evaluate what the cache lacks, then let analysis rank the stored
    results; return 0."""
    if protocol not in protocols.protocol_names():
        raise ValueError(f'--protocol {protocol!r}: expected one of '
                         f'{", ".join(protocols.protocol_names())}')
    config_path = resolve_config(config)
    if not Path(checkpoint).is_file():
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    sets = parse_testsets(testsets, Path.cwd(), '--testsets')
    for name, path in sets.items():
        if path is not None and not Path(path).exists():
            raise FileNotFoundError(f'--testsets {name}={path}: no such file or folder')
    unknown = [t for t, path in sets.items() if not zoo and path is None and t not in ZOO]
    if unknown:
        raise ValueError(f'no zoo grid for {", ".join(unknown)} (known: {", ".join(ZOO)}); '
                         'name one with --zoo GRID, or give the test set as NAME=PATH')
    gt_dirs = parse_gts(list(gts), sets)
    work_root = Path(work_root).resolve()
    grids = zoo or default_zoo(sets)
    zoo_list, to_train = zoo_methods(grids, work_root)
    candidate = Method(f'{config_path.stem} (candidate)', 'candidate', config_path,
                       Path(checkpoint).resolve())
    cache = Evaluations(work_root, protocol, sets)
    for method in [candidate, *(m for m in zoo_list if m.checkpoint)]:
        for name in sets:     # the keys need each config and test set: bad ones fail here
            cache.folder(method, name)
    for grid in to_train:
        _step(['-m', 'ablations', 'run', grid.path, '--work-root', work_root])
    for method in zoo_list:
        if method.checkpoint is None:
            try:
                method.checkpoint = Path(read_checkpoint_pointer(method.run_dir))
            except StageError as err:
                raise RuntimeError(f'zoo run {method.run_dir}: {err}') from None
    entries = [dict(label=m.label, role=m.role, seed=m.seed, testset=name,
                    dir=str(cache.evaluate(m, name)))
               for m in [candidate, *zoo_list] for name in sets]
    out = Path(out).resolve()
    atomic_write_json(out / MANIFEST, {'protocol': protocol, 'testsets': list(sets),
                                       'entries': entries})
    _step(['-m', 'analysis', 'rank', out / MANIFEST, '--out', out,
           *(a for name, folder in gt_dirs.items() for a in ('--gt', f'{name}={folder}'))])
    return 0

