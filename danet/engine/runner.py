"""``DerainRunner``: MMEngine's Runner with one predictable directory per run.

Differences from ``mmengine.runner.Runner``:

* logs land in ``<work_dir>/logs/`` (``<timestamp>.log`` per invocation, scalars in
  ``logs/vis_data/scalars.json``, TensorBoard events in ``logs/vis_data/``), not in a new
  timestamped folder per invocation;
* the resolved config is written to ``<work_dir>/config.py`` (atomically);
* the training options ``amp``, ``ema`` and ``gpu`` of the config are applied
  (``danet.engine.options``);
* DataLoader workers are seeded from ``(seed, epoch, rank, worker_id)``
  (``danet.engine.seeding``), so augmentation is fresh every epoch yet reproducible;
* on a machine without CUDA, torchrun processes and Slurm tasks (``--launcher slurm``: ranks and
  rendezvous from the ``SLURM_*`` variables) join a gloo process group and DDP wraps the CPU model
  (MMEngine assumes one GPU per process);
* checkpoints are loaded strictly and always with ``torch.load(weights_only=True)``: training
  checkpoints are saved as plain data (``danet.engine.checkpoint_state``), resuming reads only a
  checkpoint inside this run's ``work_dir``, every other checkpoint goes through
  ``danet.models.checkpoint.read_checkpoint``.

``run_training`` and ``run_testing`` apply ``danet.utils.memory.keep_freed_memory`` first;
``run_training`` and ``run_testing`` hold the run lock of their ``work_dir``
(``danet.utils.run_lock``, as the grid runner holds its run folders'; a grid's test stage works
under the runner's hold): a second training or test started there refuses, naming the holder.
"""
import contextlib
import copy
import json
import os
import os.path as osp
import subprocess
from collections import OrderedDict
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.dist import get_rank, is_distributed, is_main_process, master_only
from mmengine.model import MMDistributedDataParallel, is_model_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from danet.engine.checkpoint_state import PlainCheckpointHook, from_plain
from danet.engine.hooks import KILL_AT, KillAtHook
from danet.engine.options import apply_training_options
from danet.engine.overlap import check_overlap
from danet.engine.rewrites import rewrite_kernels
from danet.engine.seeding import WorkerSeeder
from danet.models.checkpoint import (
    DEFAULT_REVISE_KEYS,
    check_state_dict,
    fit_keys,
    read_checkpoint,
    refuse_unsafe,
)
from danet.registry import SCOPE
from danet.utils.complexity import complexity_report
from danet.utils.config import check_cfg_options, check_dataset_paths, check_types, load_config
from danet.utils.fileio import atomic_path, atomic_write_json, atomic_write_text
from danet.utils.memory import keep_freed_memory
from danet.utils.names import check_name, check_unique
from danet.utils.provenance import config_hash
from danet.utils.run_lock import LOCK_FILES, RunLock
from danet.utils.threads import apply_thread_policy, max_loader_workers

LOG_DIR = 'logs'
CONFIG_NAME = 'config.py'


STARTUP_FILES = {CONFIG_NAME, 'env.json', LOG_DIR}
"""What a run writes before its first checkpoint: a directory holding only these (and no
checkpoint) is an attempt that was killed or failed at start-up, with nothing to resume."""


def prepare_work_dir(work_dir: str | Path, resume: bool) -> bool:
    """Check ``work_dir`` before training; return whether to resume from its checkpoint.

    A new run needs an empty (or new) directory, ``--resume`` one with a checkpoint. A directory
    left by an attempt that never saved a checkpoint is reused either way: its ``config.py`` and
    ``env.json`` go (the next attempt writes its own), its ``logs/`` stay.
    """
    work_dir = Path(work_dir)
    entries = sorted(p.name for p in work_dir.iterdir()
                     if p.name not in LOCK_FILES) if work_dir.is_dir() else []
    if (work_dir / 'last_checkpoint').is_file():
        if not resume:
            raise FileExistsError(
                f'{work_dir} holds another run ({", ".join(entries[:6])}'
                f'{" ..." if len(entries) > 6 else ""}): pass --resume to continue it, or '
                'choose another --work-dir.')
        return True
    if entries and set(entries) <= STARTUP_FILES:
        print(f'{work_dir}: an earlier attempt left no checkpoint; starting afresh '
              f'(its logs stay in {work_dir / LOG_DIR})', flush=True)
        for name in (CONFIG_NAME, 'env.json'):
            (work_dir / name).unlink(missing_ok=True)
        return False
    if entries:
        raise FileExistsError(
            f'{work_dir} is not empty ({", ".join(entries[:6])}'
            f'{" ..." if len(entries) > 6 else ""}) and holds no last_checkpoint to resume: '
            'choose another --work-dir.')
    if resume:
        raise FileNotFoundError(f'--resume: {work_dir} holds no checkpoint to resume '
                                '(no last_checkpoint file); drop --resume to start the run')
    return False


class DerainRunner(Runner):
    """MMEngine Runner with the run-directory and checkpoint rules above."""

    _resuming = False
    train_test_overlap: dict | None = None  # set by run_training, recorded in env.json

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'DerainRunner':
        """Build from a copy of ``cfg`` with its training options (``amp``, ``ema``, ``gpu``:
        ``danet.engine.options``) applied; GPU options skipped on CPU are logged."""
        cfg = copy.deepcopy(cfg)
        skipped = apply_training_options(cfg)
        runner = super().from_cfg(cfg)
        if skipped:
            runner.logger.info(f'gpu options {", ".join(skipped)}: no CUDA, left off (no-ops '
                               'on CPU)')
        return runner

    @property
    def _log_dir(self) -> str:
        return osp.join(self._work_dir, LOG_DIR)

    @_log_dir.setter
    def _log_dir(self, timestamped: str) -> None:
        """MMEngine assigns ``<work_dir>/<timestamp>``; the fixed ``logs/`` folder replaces it."""

    def setup_env(self, env_cfg: dict) -> None:
        if self._distributed and not torch.cuda.is_available() and not is_distributed():
            if self._launcher == 'slurm':
                os.environ.update(slurm_rank_env(os.environ))
            torch.distributed.init_process_group(backend='gloo')
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg, model):
        if getattr(model, 'channels_last', False):   # model.channels_last: the oneDNN kernels
            rewrite_kernels(model.generator)
        if self.distributed and not torch.cuda.is_available() and not is_model_wrapper(model):
            return MMDistributedDataParallel(
                module=model, device_ids=None, broadcast_buffers=False,
                find_unused_parameters=self.cfg.get('find_unused_parameters', False))
        return super().wrap_model(model_wrapper_cfg, model)

    @staticmethod
    def build_dataloader(dataloader, seed=None, diff_rank_seed: bool = False):
        """MMEngine's dataloader, its workers seeded per epoch by :class:`WorkerSeeder` (unless
        the config names its own ``worker_init_fn``)."""
        loader = Runner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)
        if seed is not None and isinstance(dataloader, dict) and \
                'worker_init_fn' not in dataloader:
            loader.worker_init_fn = WorkerSeeder(seed, get_rank(), loader.sampler)
        return loader

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        super().register_hooks(default_hooks, custom_hooks)
        self.register_hook(PlainCheckpointHook())
        if os.environ.get(KILL_AT):
            self.register_hook(KillAtHook(os.environ[KILL_AT]))

    @master_only
    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs) -> None:
        """MMEngine's, written under a hidden temporary name and renamed into place: a full
        disk leaves no half-written checkpoint, the earlier ones intact, and an ``OSError``
        naming the checkpoint."""
        with atomic_path(Path(out_dir) / filename, suffix='.pth') as tmp:
            super().save_checkpoint(str(tmp.parent), tmp.name, *args, **kwargs)

    def dump_config(self) -> None:
        """Write ``config.py`` once, when the run directory is created (tests and resumes of
        the run keep it; their own config hash goes to ``env.json``)."""
        path = osp.join(self.work_dir, CONFIG_NAME)
        if not osp.exists(path):
            atomic_write_text(path, self.cfg.pretty_text)

    def resume(self, filename: str, *args, **kwargs) -> None:
        if not Path(filename).resolve().is_relative_to(Path(self.work_dir).resolve()):
            raise ValueError(f'resume: {filename} is outside this run directory {self.work_dir}; '
                             'only checkpoints of this run are resumed (use load_from to '
                             'initialise weights from elsewhere)')
        built = self._scheduler_ranges()
        self._resuming = True
        try:
            super().resume(filename, *args, **kwargs)
        finally:
            self._resuming = False
        if self._scheduler_ranges() != built:
            self.logger.warning(
                f'resume: the parameter schedulers keep the (begin, end) of the checkpoint, '
                f'{self._scheduler_ranges()}, not {built} of this config (max_epochs/max_iters '
                'changed?); set `end` explicitly in param_scheduler to extend a schedule')

    def _scheduler_ranges(self) -> list:
        schedulers = self.param_schedulers
        if isinstance(schedulers, dict):
            schedulers = [s for group in schedulers.values() for s in group]
        return [(s.begin, s.end) for s in schedulers or [] if hasattr(s, 'end')]

    key_rules = DEFAULT_REVISE_KEYS
    """``--revise-keys`` rules for a checkpoint loaded from elsewhere (``load_from``, testing)."""

    def load_checkpoint(self, filename: str, map_location='cpu', strict: bool = True,
                        revise_keys=None) -> dict:
        model = self.model.module if is_model_wrapper(self.model) else self.model
        if self._resuming:
            with refuse_unsafe(filename):
                checkpoint = torch.load(filename, map_location=map_location, weights_only=True)
            checkpoint = from_plain(checkpoint)
            rules = DEFAULT_REVISE_KEYS
        else:
            checkpoint = dict(state_dict=read_checkpoint(filename))
            rules = self.key_rules if revise_keys is None else revise_keys
        # an OrderedDict: MMEngine's loader sets ``_metadata`` on it
        checkpoint['state_dict'] = OrderedDict(fit_keys(model, checkpoint['state_dict'], rules,
                                                        filename))
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        if strict:  # the one key check (danet.models.checkpoint), on the keys as they will load
            check_state_dict(model, checkpoint['state_dict'], filename)
        checkpoint = _load_checkpoint_to_model(model, checkpoint, strict, revise_keys=[])
        self._has_loaded = True
        self.logger.info(f'Loaded checkpoint {filename}')
        return checkpoint


def slurm_rank_env(environ) -> dict[str, str]:
    """torchrun's rendezvous variables for one Slurm task: ``RANK``, ``WORLD_SIZE``,
    ``LOCAL_RANK``, ``MASTER_ADDR`` (the first node of ``SLURM_NODELIST``) and ``MASTER_PORT``
    (kept when set, else 29500, as MMEngine's Slurm launcher)."""
    missing = [k for k in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID', 'SLURM_NODELIST')
               if k not in environ]
    if missing:
        raise RuntimeError(f'--launcher slurm: {", ".join(missing)} not set; start the tasks '
                           'with srun (tools/slurm_train.sh)')
    first_node = subprocess.run(['scontrol', 'show', 'hostnames', environ['SLURM_NODELIST']],
                                capture_output=True, text=True, check=True).stdout.split()[0]
    return {'RANK': environ['SLURM_PROCID'], 'WORLD_SIZE': environ['SLURM_NTASKS'],
            'LOCAL_RANK': environ['SLURM_LOCALID'], 'MASTER_ADDR': first_node,
            'MASTER_PORT': environ.get('MASTER_PORT', '29500')}


def load_run_config(config: str | Path, work_dir: str | Path | None = None,
                    cfg_options: dict | None = None, launcher: str = 'none') -> Config:
    """Load ``config`` (a file or ``danet::PATH``; its plug-ins imported), apply checked
    ``cfg_options``, check every ``type`` is registered, set ``work_dir`` (default
    ``work_dirs/<config stem>``) and ``launcher``; the ``danet`` scope becomes the default."""
    init_default_scope(SCOPE)
    cfg = load_config(config)
    cfg.merge_from_dict(check_cfg_options(cfg, cfg_options))
    check_types(cfg)
    cfg.work_dir = str(work_dir or Path('work_dirs') / Path(config).stem)
    cfg.launcher = launcher
    return cfg


def run_training(cfg: Config, resume: bool = False, allow_overlap: bool = False,
                 key_rules=DEFAULT_REVISE_KEYS) -> DerainRunner:
    """Train ``cfg`` in its own run directory (``--resume`` continues its last checkpoint;
    ``cfg.load_from`` starts from weights whose keys ``key_rules`` fix).

    Refuses (``OverlapError``) a training split that shares backgrounds with a configured test
    set unless ``allow_overlap``; the check's result goes into ``env.json``."""
    check_dataset_paths(cfg, ('train_dataloader', 'val_dataloader'))
    overlap = check_overlap(cfg, allow_overlap)
    with run_dir_lock(cfg, 'training'):
        cfg.resume = prepare_work_dir(cfg.work_dir, resume)
        apply_thread_policy(max_loader_workers(cfg))
        keep_freed_memory()
        runner = DerainRunner.from_cfg(cfg)
        runner.key_rules = key_rules
        runner.train_test_overlap = overlap
        runner.train()
    return runner


LAUNCHER_RANK = {'pytorch': 'RANK', 'slurm': 'SLURM_PROCID', 'mpi': 'OMPI_COMM_WORLD_RANK'}
"""Where each launcher puts a process's rank before the process group exists."""


def run_dir_lock(cfg: Config, what: str) -> contextlib.AbstractContextManager:
    """The run lock of ``cfg.work_dir`` for a training or a test (``what``), taken by rank 0
    only (the ranks of one distributed run share the directory); ``RunBusyError`` (exit 2 in
    the tools) names the holder."""
    variable = LAUNCHER_RANK.get(cfg.get('launcher', 'none'))
    if variable and int(os.environ.get(variable, 0)) != 0:
        return contextlib.nullcontext()
    return RunLock(cfg.work_dir).held(what)


def testset_name(loader: dict) -> str:
    """The name a test dataloader config writes its results under (``results/<name>.json``):
    its dataset's ``testset``, else its ``ann_file``'s stem (a folder's name for
    ``FolderPairedDataset``)."""
    dataset = loader['dataset']
    if dataset.get('testset'):
        return dataset['testset']
    path = Path(dataset['ann_file'])
    return path.name if dataset.get('type') == 'FolderPairedDataset' else path.stem


def select_testsets(cfg: Config, names: list[str] | None) -> list[int]:
    """Indices into ``cfg.test_dataloader`` (a list, or one dict: index 0) of the test sets
    ``names``, in config order; all of them when ``names`` is None. Unknown names raise
    ``ValueError`` listing the available ones."""
    loaders = cfg.test_dataloader
    loaders = loaders if isinstance(loaders, list) else [loaders]
    available = [testset_name(loader) for loader in loaders]
    if names is None:
        return list(range(len(loaders)))
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(f'--testsets: unknown test set(s) {", ".join(unknown)}; this config '
                         f'has {", ".join(available)}, or give NAME=PATH (a packed .h5 or a '
                         'folder of pairs)')
    return [i for i, name in enumerate(available) if name in names]


def parse_testsets(entries: list[str]) -> list[tuple[str, str | None]]:
    """``--testsets`` entries as ``(NAME, PATH)`` (PATH None for a config's test set): every
    NAME passes the name gate and is unique (each writes ``results/NAME.json``); an empty PATH
    (which would read the current folder) is refused."""
    parsed = []
    for entry in entries:
        name, sep, path = entry.partition('=')
        if sep and not path:
            raise ValueError(f'--testsets {entry}: empty PATH; give NAME=PATH with a packed .h5 '
                             'or a folder of pairs')
        parsed.append((name, path if sep else None))
    check_unique([name for name, _ in parsed], '--testsets')
    return parsed


def external_testset(cfg: Config, name: str, path: str) -> tuple[dict, dict]:
    """A test dataloader and evaluator for ``--testsets NAME=PATH``: the config's first test
    set's loader and evaluator, reading ``PATH`` (a packed ``.h5``, or a folder of pairs in any
    layout ``data_tools pack`` knows) under the name ``NAME``."""
    from danet.datasets.image_files import detect_layout
    source = Path(path)
    if source.is_file():
        dataset = dict(type='H5PairedDataset', ann_file=str(source), testset=name,
                       test_mode=True, pipeline=[])
    elif source.is_dir():
        dataset = dict(type='FolderPairedDataset', ann_file=str(source), testset=name,
                       layout=detect_layout(source), test_mode=True, pipeline=[])
    else:
        raise FileNotFoundError(f'--testsets {name}={path}: no such file or folder')
    loaders, evaluators = cfg.get('test_dataloader'), cfg.get('test_evaluator')
    if not loaders or not evaluators:
        raise ValueError(f'--testsets {name}={path}: {cfg.filename} has no test_dataloader and '
                         'test_evaluator to copy; inherit danet::_base_/datasets/derain_test.py')
    loader = loaders[0] if isinstance(loaders, list) else loaders
    evaluator = evaluators[0] if isinstance(evaluators, list) else evaluators
    return dict(copy.deepcopy(loader), dataset=dataset), copy.deepcopy(evaluator)


def test_plan(cfg: Config, testsets: list[str] | None) -> tuple[list[dict], list[dict]]:
    """The test dataloaders and evaluators for ``--testsets`` entries: config test set names
    (``select_testsets``) and ``NAME=PATH`` sets (``external_testset``), in the given order."""
    loaders = cfg.test_dataloader if isinstance(cfg.test_dataloader, list) \
        else [cfg.test_dataloader]
    evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) \
        else [cfg.test_evaluator] * len(loaders)
    entries = None if testsets is None else parse_testsets(testsets)
    named = None if entries is None else [name for name, path in entries if path is None]
    indices = select_testsets(cfg, named)
    for i in indices:   # each writes results/<name>.json too
        check_name(testset_name(loaders[i]), f'{cfg.filename}: test set name')
    check_unique([testset_name(loaders[i]) for i in indices]
                 + [name for name, path in entries or [] if path is not None],
                 '--testsets' if entries else f'{cfg.filename}: test set name')
    check_dataset_paths(cfg, tuple(f'test_dataloader.{i}.' for i in indices)
                        if isinstance(cfg.test_dataloader, list) else ('test_dataloader',))
    plan = [(loaders[i], evaluators[i]) for i in indices]
    plan += [external_testset(cfg, name, path) for name, path in entries or [] if path]
    return [p[0] for p in plan], [p[1] for p in plan]


def check_same_run(cfg: Config) -> None:
    """Refuse to write into a run directory whose ``env.json`` records another config hash: its
    results would be attributed to that run."""
    env = Path(cfg.work_dir) / 'env.json'
    if not env.is_file():
        return
    try:
        latest = json.loads(env.read_text())
        recorded = {r.get('config_hash') for r in [latest, *latest.get('history', [])]}
    except (json.JSONDecodeError, AttributeError, TypeError) as err:
        raise ValueError(f'{env}: unreadable ({err}); choose another --work-dir') from None
    ours = config_hash(cfg)
    if ours not in recorded:
        theirs = ', '.join(sorted(str(h)[:12] for h in recorded))
        raise ValueError(f'{cfg.work_dir} holds a run of another config (config hash {theirs}, '
                         f'this one is {ours[:12]}): its results would be attributed to that run. '
                         'Choose another --work-dir (or the same --cfg-options as that run).')


def run_testing(cfg: Config, checkpoint: str | Path, save_images: bool = False,
                complexity_shape=(3, 256, 256), testsets: list[str] | None = None,
                protocol: str | dict | None = None, key_rules=DEFAULT_REVISE_KEYS) -> dict:
    """Evaluate ``checkpoint`` on the test sets ``testsets`` (default: all of ``cfg``'s; an
    entry ``NAME=PATH`` adds a packed ``.h5`` or folder of pairs, ``external_testset``);
    ``work_dir`` receives ``results/<testset>.json``, ``env.json`` and ``complexity.json``
    (generator at ``complexity_shape``), and with ``save_images`` the predictions under
    ``images/``. ``protocol`` (a name or ``dict(type=NAME, crop_border=N)``) replaces the
    configured evaluation protocol of every ``DerainMetric``; ``key_rules`` fix the
    checkpoint's key names (``danet.models.checkpoint.fit_keys``). The selection, the protocol
    and the key rules leave ``cfg`` and so its config hash unchanged."""
    loaders, evaluators = test_plan(cfg, testsets)
    if not Path(checkpoint).is_file():
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    keep_freed_memory()
    with run_dir_lock(cfg, 'test'):
        check_same_run(cfg)
        apply_thread_policy(max_loader_workers(cfg))
        runner = DerainRunner.from_cfg(cfg)
        runner._test_dataloader, runner._test_evaluator = loaders, evaluators  # MultiTestLoop
        runner._test_loop = dict(runner._test_loop, save_images=save_images)  # not hashed
        if protocol is not None:
            runner._test_loop['protocol'] = protocol
        runner.key_rules = key_rules
        runner._load_from = str(checkpoint)   # loaded by test() after before_run: hooks ready
        metrics = runner.test()
        if is_main_process():
            atomic_write_json(Path(cfg.work_dir) / 'complexity.json',
                              complexity_report(cfg.model.generator, complexity_shape))
    return metrics
