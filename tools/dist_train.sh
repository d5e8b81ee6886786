#!/usr/bin/env bash
# DDP training on one machine: tools/dist_train.sh CONFIG NUM_PROCESSES [train.py options]
# Without CUDA the processes use gloo on CPU. PORT (default 29500) sets the rendezvous port.
set -euo pipefail
CONFIG=$1
NPROC=$2
shift 2
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
exec "$PYTHON" -m torch.distributed.run --nproc_per_node="$NPROC" --master_port="${PORT:-29500}" \
    tools/train.py "$CONFIG" --launcher pytorch "$@"
