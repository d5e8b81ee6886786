"""What the runner asks Slurm itself (``sinfo``, ``squeue``): never ``sacct``, which clusters
without accounting lack."""
import re
import subprocess
import time

# squeue states of a job that may still run (or is about to be run again)
ACTIVE = {'PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'REQUEUED', 'REQUEUE_HOLD',
          'REQUEUE_FED', 'RESIZING', 'SIGNALING', 'STAGE_OUT', 'SUSPENDED', 'PREEMPTED'}
# pending reasons that no amount of waiting fixes
NEVER_RUNS = {'PartitionConfig', 'PartitionNodeLimit', 'PartitionTimeLimit', 'BadConstraints',
              'InvalidAccount', 'InvalidQOS', 'PartitionDown', 'PartitionInactive'}


class SlurmError(RuntimeError):
    """A Slurm command that failed or a request no node of the partition can satisfy."""


def _slurm(argv: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise SlurmError(f'{argv[0]} not found: --executor slurm needs the Slurm client '
                         'commands on PATH (a cluster login node)') from None
    except subprocess.TimeoutExpired:
        raise SlurmError(f'{" ".join(argv)}: no answer within 60 s') from None


def check_capacity(partition: str | None, cpus: int, gpus: int) -> None:
    """Raise ``SlurmError`` when no node of ``partition`` (default: the default partition) has
    ``cpus`` CPUs and ``gpus`` GPUs: Slurm would accept such a job and leave it pending forever."""
    argv = ['sinfo', '-h', '-N', '-o', '%c|%G|%P'] + (['-p', partition] if partition else [])
    proc = _slurm(argv)
    if proc.returncode != 0:
        raise SlurmError(f'{" ".join(argv)} failed: {proc.stderr.strip()}')
    nodes = []
    for line in proc.stdout.splitlines():
        node_cpus, gres, part = line.split('|')
        if partition or part.endswith('*'):
            nodes.append((int(node_cpus), sum(int(n) for n in re.findall(r'gpu(?::[^:,(]+)?:(\d+)',
                                                                      gres))))
    where = f'partition {partition!r}' if partition else 'the default partition'
    if not nodes:
        raise SlurmError(f'{where} has no nodes (sinfo lists none); pick one with --partition')
    if not any(c >= cpus and g >= gpus for c, g in nodes):
        most_cpus, most_gpus = max(c for c, _ in nodes), max(g for _, g in nodes)
        raise SlurmError(f'--cpus {cpus} --gpus {gpus}: no node of {where} has that many '
                         f'(at most {most_cpus} CPUs and {most_gpus} GPUs per node); '
                         f'lower --cpus/--gpus or choose another --partition')


class SlurmQueue:
    """Job states from ``squeue``, asked at most every ``every_s`` seconds."""

    def __init__(self, every_s: float = 3.0):
        self.every_s, self._asked, self._states = every_s, 0.0, {}

    def states(self, job_ids: list[str]) -> dict[str, tuple[str, str]] | None:
        """``{job_id: (STATE, reason)}``; a job squeue no longer knows is ``('GONE', '')``.
        None when squeue cannot answer (the controller is down): nothing is known."""
        if not job_ids:
            return {}
        if time.time() - self._asked >= self.every_s or set(job_ids) - set(self._states or {}):
            self._states = self._ask(job_ids)
            self._asked = time.time()
        return None if self._states is None else {j: self._states.get(j, ('GONE', ''))
                                                  for j in job_ids}

    @staticmethod
    def _ask(job_ids: list[str]) -> dict[str, tuple[str, str]] | None:
        try:
            proc = _slurm(['squeue', '-h', '-t', 'all', '-j', ','.join(job_ids), '-o', '%i|%T|%r'])
        except SlurmError:
            return None
        if proc.returncode != 0:
            return {} if 'Invalid job id' in proc.stderr else None
        states = {}
        for line in proc.stdout.splitlines():
            job_id, state, reason = line.split('|', 2)
            states[job_id] = (state, reason)
        return states
