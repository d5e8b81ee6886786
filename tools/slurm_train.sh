#!/usr/bin/env bash
# Slurm training: tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
# GPUS (default 8): the number of tasks (processes); GPUS_PER_NODE (8): tasks and GPUs per node;
# GPUS_PER_NODE=0 trains on CPU (no --gres, gloo) with TASKS_PER_NODE (default GPUS) per node.
# CPUS_PER_TASK (5), PORT (rendezvous port, default 29500) and SRUN_ARGS tune the allocation.
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
shift 4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
if [ "$GPUS_PER_NODE" -gt 0 ]; then
    ALLOC=(--gres=gpu:"$GPUS_PER_NODE" --ntasks-per-node="$GPUS_PER_NODE")
else
    ALLOC=(--ntasks-per-node="${TASKS_PER_NODE:-$GPUS}")
fi
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
export MASTER_PORT=${PORT:-29500}
srun -p "$PARTITION" --job-name="$JOB_NAME" --ntasks="$GPUS" "${ALLOC[@]}" \
    --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 \
    ${SRUN_ARGS:-} "$PYTHON" -u tools/train.py "$CONFIG" --work-dir="$WORK_DIR" \
    --launcher slurm "$@"
