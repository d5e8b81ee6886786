"""``python -m ablations plan|run|status|prune GRID``: expand, run, inspect an ablation grid and
remove the run folders it no longer has; ``python -m ablations rank CONFIG CKPT``: evaluate a
checkpoint and the zoo, rank them (``ablations/rank.py``)."""
import argparse
import json
import os
import shutil
import signal
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

from ablations import rank
from ablations.grid import check_runs, expand, load_grid
from ablations.rundir import (
    DONE,
    GRID_INDEX,
    RUN_JSON,
    STATES,
    read_json,
    run_state,
    write_grid_index,
)
from ablations.runner import (
    WORK_ROOT,
    dispatch,
    make_executor,
    run_dir_of,
    select_runs,
    write_run_json,
)
from ablations.slurm import SlurmError, check_capacity
from ablations.spec import WEIGHTS_ENV, GridError, RunSpec, cfg_option_args
from ablations.stages import grid_stages
from danet.evaluation.protocols import protocol_names
from danet.utils.names import check_unique
from danet.utils.run_lock import RunLock, describe_holder
from danet.utils.threads import CPUS_ENV, available_cpus


def cpus_per_run(args) -> int:
    """Each local run's CPU budget (``DANET_CPUS``): the cores shared by ``--max-parallel`` runs,
    or a value already set; a Slurm job's comes from its ``--cpus``."""
    if args.executor == 'slurm':
        return args.cpus
    return int(os.environ.get(CPUS_ENV) or max(1, available_cpus() // args.max_parallel))


def reproduce_command(spec: RunSpec, run_dir: Path, cpus: int) -> str:
    options = ['--cfg-options', *(f"'{a}'" for a in cfg_option_args(spec.overrides))]
    if spec.checkpoint:   # evaluate-only cell
        return ' '.join([f'{CPUS_ENV}={cpus}', 'python tools/test.py', spec.base,
                         spec.checkpoint, '--work-dir', str(run_dir), *options])
    return ' '.join([f'{CPUS_ENV}={cpus}', 'python tools/train.py', spec.base, '--work-dir',
                     str(run_dir / 'train'), *options])


def cmd_plan(args, grid, specs) -> int:
    if args.json:
        print(json.dumps([dict(spec.to_json(), run_dir=str(run_dir_of(args.work_root, spec)),
                               command=reproduce_command(spec, run_dir_of(args.work_root, spec),
                                                         cpus_per_run(args)))
                          for spec in specs], indent=2))
        return 0
    print(f'grid {grid.name}: {len(specs)} runs ({grid.mode}, seeds {grid.seeds}) from '
          f'{grid.base}; test sets {grid.testsets}')
    if grid.cfg_options:
        print('  every run: ' + ' '.join(cfg_option_args(grid.cfg_options)))
    width = max(len(s.run_id) for s in specs)
    for spec in specs:
        diff = ' '.join(f'{k}={a.value!r} ({a.label})' for k, a in spec.axes.items()) or '(base)'
        print(f'  {spec.run_id:<{width}}  {diff}')
    return 0


def index_runs(args, grid, specs) -> None:
    """Record the grid's current run ids beside its runs (``rundir.write_grid_index``)."""
    write_grid_index(args.work_root / grid.name, grid.name, grid.path, [s.run_id for s in specs])


def cmd_status(args, grid, specs) -> int:
    index_runs(args, grid, specs)
    states = {s.run_id: run_state(run_dir_of(args.work_root, s), grid_stages(grid, s),
                                  grid.testsets) for s in specs}
    counts = Counter(st.state for st in states.values())
    print(f'grid {grid.name}: ' + ', '.join(f'{counts[k]} {k}' for k in STATES if counts[k]))
    for run_id, st in states.items():
        print(f'  {st.state:<14} {run_id}')
        if st.detail and st.state != 'done':
            print('\n'.join(f'           | {line}' for line in st.detail.splitlines()))
    return 0 if counts['failed'] == counts['corrupt'] == 0 else 1


def stage_seconds(run_dir: Path) -> float:
    """Seconds the run's stages took (from DONE.json; 0 for a run that did not finish)."""
    done = read_json(run_dir / DONE) or {}
    return sum(stage['seconds'] for stage in (done.get('stages') or {}).values())


def cmd_run(args, grid, specs) -> int:
    todo = select_runs(grid, specs, args.work_root, args.retry_failed)
    print(f'grid {grid.name}: {len(todo)} of {len(specs)} runs to do '
          f'(executor {args.executor}, max parallel {args.max_parallel})', flush=True)
    if todo and args.executor == 'slurm':
        try:
            check_capacity(args.partition, args.cpus, args.gpus)
        except SlurmError as err:
            print(f'error: {err}', file=sys.stderr)
            return 2
    if args.dry_run:
        for spec in todo:
            command = reproduce_command(spec, run_dir_of(args.work_root, spec), cpus_per_run(args))
            print(f'  would run {spec.run_id}: {command}')
        return 0
    (args.work_root / grid.name).mkdir(parents=True, exist_ok=True)
    index_runs(args, grid, specs)
    todo_ids = {spec.run_id for spec in todo}
    for spec in specs:   # new runs get run.json; older ones gain fields added to the format since
        if spec.run_id in todo_ids or run_dir_of(args.work_root, spec).is_dir():
            write_run_json(run_dir_of(args.work_root, spec), spec)
    if not todo:
        return 0
    if args.executor == 'local':  # the runs' tools apply it (danet/utils/threads.py)
        os.environ[CPUS_ENV] = str(cpus_per_run(args))
    executor = make_executor(args.executor, args.work_root / grid.name / '.submitit',
                             args.timeout_min, args.partition, args.gpus, args.cpus)
    start = time.time()
    # SIGTERM cancels the jobs as Ctrl-C does; SIGINT too even where the runner was started with
    # it ignored (nohup, a background shell job), so `kill -INT` always cancels
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.default_int_handler)
    try:
        outcomes = dispatch(grid, todo, args.work_root, executor, args.max_parallel,
                            progress_s=args.progress_every)
    except KeyboardInterrupt:
        print(f'grid {grid.name}: interrupted', file=sys.stderr, flush=True)
        return 130
    wall = time.time() - start
    counts = Counter(outcomes.values())
    stage_s = sum(stage_seconds(run_dir_of(args.work_root, s)) for s in todo)
    print(f'grid {grid.name}: ' + ', '.join(f'{n} {k}' for k, n in sorted(counts.items())) +
          f' in {wall:.1f}s; stages {stage_s:.1f}s; runner overhead per run '
          f'{(wall * args.max_parallel - stage_s) / len(todo):.2f}s', flush=True)
    if counts['interrupted']:
        print(f'{counts["interrupted"]} interrupted: run the same command again to resume them',
              flush=True)
    return 0 if set(counts) <= {'done', 'skipped'} else 1


def cmd_prune(args, grid, specs) -> int:
    """Remove (``--dry-run``: list) the run folders of the grid that no cell of it owns now; a
    locked (running) one is kept and named. Exit 1 if one was kept."""
    folder, owned = args.work_root / grid.name, {s.run_id for s in specs}
    stale = [p for p in sorted(folder.iterdir()) if p.is_dir() and not p.name.startswith('.')
             and p.name not in owned] if folder.is_dir() else []
    kept = 0
    for run_dir in stale:
        meta = read_json(run_dir / RUN_JSON) or {}
        if meta.get('grid') != grid.name:
            print(f'  left {run_dir}: not a run folder of grid {grid.name} (no {RUN_JSON} naming '
                  'it)')
            continue
        lock = RunLock(run_dir)
        if args.dry_run:
            holder = lock.holder()
            print(f'  would remove {run_dir}' if holder is None else
                  f'  would keep {run_dir}: in use by {describe_holder(holder)}')
            continue
        if not lock.acquire():
            kept += 1
            print(f'  kept {run_dir}: in use by {describe_holder(lock.holder())}; prune again '
                  'when it has stopped')
            continue
        doomed = folder / f'.pruned-{run_dir.name}-{uuid.uuid4().hex[:8]}'
        run_dir.rename(doomed)   # one step out of sight, then the slow removal
        shutil.rmtree(doomed)
        print(f'  removed {run_dir}')
    index_runs(args, grid, specs)
    print(f'grid {grid.name}: {len(specs)} runs owned; {len(stale)} folder(s) not owned'
          + (' (dry run: nothing removed)' if args.dry_run else ''))
    return 1 if kept else 0


def use_weights_dir(folder: Path | None) -> None:
    """``--weights-dir``: the folder of converted released weights that evaluate-only grids
    read (``ablations.spec.weights_dir``), exported for this process and the runs it starts."""
    if folder is None:
        return
    if not folder.is_dir():
        raise GridError(f'--weights-dir {folder}: no such folder')
    os.environ[WEIGHTS_ENV] = str(folder.resolve())


def add_weights_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--weights-dir', type=Path, metavar='DIR',
                        help='folder of converted released weights that the evaluate-only '
                             'release grids read (default: each grid\'s work_dirs/<name>_release; '
                             f'also ${WEIGHTS_ENV}); give the same DIR to run, status and rank')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='python -m ablations', description=__doc__)
    sub = parser.add_subparsers(dest='command', required=True)
    for name, helptext in (('plan', 'list every run with its id and its diff from the base'),
                           ('run', 'run the runs not yet done'),
                           ('status', 'done / running / failed / corrupt / partly trained / '
                                      'pending per run'),
                           ('prune', 'remove the run folders no cell of the grid owns (after the '
                                     f'grid file changed; {GRID_INDEX} lists the owned ones)')):
        p = sub.add_parser(name, help=helptext)
        p.add_argument('grid', help='grid name (ablations/<name>.py) or path to a grid file')
        p.add_argument('--work-root', type=Path, default=WORK_ROOT,
                       help='runs go to WORK_ROOT/<grid>/<run_id> (default: %(default)s)')
        add_weights_dir_option(p)
        if name == 'plan':
            p.add_argument('--json', action='store_true', help='print a JSON list of runs')
        if name in ('plan', 'run'):  # plan --json prints the commands `run` would execute
            p.add_argument('--executor', choices=('local', 'slurm'), default='local')
            p.add_argument('--max-parallel', type=int, default=1)
            p.add_argument('--cpus', type=int, default=4, help='CPUs per run (Slurm)')
        if name == 'prune':
            p.add_argument('--dry-run', action='store_true', help='list what would be removed')
        if name == 'run':
            p.add_argument('--dry-run', action='store_true', help='list what would run')
            p.add_argument('--progress-every', type=float, default=30, metavar='S',
                           help="print each running run's epoch every S seconds (default 30)")
            p.add_argument('--retry-failed', action='store_true', help='run failed runs again')
            p.add_argument('--timeout-min', type=int, default=24 * 60,
                           help='time limit per run in minutes (both executors)')
            p.add_argument('--partition', help='Slurm partition')
            p.add_argument('--gpus', type=int, default=0, help='GPUs per run')
    p = sub.add_parser('rank', help='evaluate a checkpoint and the zoo (cached), then '
                                    'python -m analysis rank: table, statistics, figure')
    p.add_argument('config', help='config file or danet::PATH (a shipped config)')
    p.add_argument('checkpoint')
    p.add_argument('--testsets', nargs='+', required=True, metavar='NAME|NAME=PATH',
                   help='config test sets, or NAME=PATH (a packed .h5 or a folder of pairs)')
    p.add_argument('--protocol', required=True, choices=protocol_names(),
                   help='evaluation protocol of every method (docs/metrics.md)')
    p.add_argument('--zoo', nargs='+', metavar='GRID',
                   help='zoo grid files (default per test set: ' + '; '.join(
                       f'{t}: {", ".join(g)}' for t, g in rank.ZOO.items()) + ', those whose '
                        'weights are there; for a NAME=PATH test set every one of them)')
    p.add_argument('--work-root', type=Path, default=WORK_ROOT,
                   help='zoo runs and the candidate go under it (default: %(default)s)')
    p.add_argument('--out', type=Path, required=True, help='folder for the ranking')
    p.add_argument('--gt', action='append', default=[], metavar='TESTSET=DIR',
                   help='ground truths of a test set, for its comparison figure')
    add_weights_dir_option(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == 'rank':
        try:
            use_weights_dir(args.weights_dir)
            check_unique([t.partition('=')[0] for t in args.testsets], '--testsets')
            check_unique([gt.partition('=')[0] for gt in args.gt], '--gt')
            return rank.rank(args.config, args.checkpoint, args.testsets, args.protocol,
                             args.out, args.work_root, args.zoo, args.gt)
        except (GridError, OSError, ValueError, RuntimeError) as err:
            print(f'error: {err}', file=sys.stderr)
            return 2
    if getattr(args, 'max_parallel', 1) < 1:
        print('error: --max-parallel must be >= 1', file=sys.stderr)
        return 2
    try:
        use_weights_dir(args.weights_dir)
        grid = load_grid(args.grid)
        specs = expand(grid)
        missing = check_runs(grid, specs) if args.command in ('plan', 'run') else []
    except GridError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    if missing:
        print(f'{"error" if args.command == "run" else "warning"}: runs lack '
              'data:\n  ' + '\n  '.join(missing), file=sys.stderr)
        if args.command == 'run':
            return 2
    return {'plan': cmd_plan, 'run': cmd_run, 'status': cmd_status,
            'prune': cmd_prune}[args.command](args, grid, specs)


if __name__ == '__main__':
    sys.exit(main())
