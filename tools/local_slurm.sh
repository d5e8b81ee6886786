#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for tests and trying the cluster path:
#   tools/local_slurm.sh up [--accounting]   start it (idempotent); prints `export SLURM_CONF=...`
#   tools/local_slurm.sh down                stop the daemons this script started, remove its state
#   tools/local_slurm.sh status              exit 0 when the cluster answers
# Needs root (the daemons run as root). Installs Debian's slurm-wlm and munge with apt-get when
# missing (slurmdbd and mariadb-server too with --accounting, for sacct). Everything lives in
# DANET_SLURM_DIR (default /tmp/danet-slurm): config, own munged socket and key, spool, logs, pid
# files. The node is NodeName=localhost at 127.0.0.1 (works when the hostname does not resolve);
# ports DANET_SLURM_PORT (default 16817) .. +3 keep clear of a system Slurm. Partition `debug`.
set -euo pipefail
DIR=${DANET_SLURM_DIR:-/tmp/danet-slurm}
PORT=${DANET_SLURM_PORT:-16817}
CONF=$DIR/slurm.conf
DAEMONS=(slurmctld slurmd slurmdbd mariadbd munged)   # stop order

die() { echo "local_slurm: $*" >&2; exit 2; }

pid_of() {   # the live pid recorded for daemon $1, or nothing
    local pid
    pid=$(cat "$DIR/run/$1.pid" 2>/dev/null) || return 0
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

install_packages() {
    local missing=() pkg
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "packages ${missing[*]} missing and no apt-get to install them"
    echo "local_slurm: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=900 update -q >&2 || die "apt-get update failed"
    apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}" >&2 \
        || die "apt-get install ${missing[*]} failed"
}

wait_for() {   # wait_for SECONDS WHAT COMMAND...: poll COMMAND until it succeeds
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || die "$what did not come up; see $DIR/log/"
        sleep 0.3
    done
}

write_config() {   # $1 = yes/no accounting
    local cpus mem
    cpus=$(getconf _NPROCESSORS_ONLN)   # not nproc: it obeys OMP_NUM_THREADS
    mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
    cat > "$CONF.tmp" <<EOF
# Written by tools/local_slurm.sh: a one-node test cluster.
ClusterName=danet
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
KillWait=5
MinJobAge=300
SlurmdTimeout=60
InactiveLimit=0
EOF
    if [ "$1" = yes ]; then
        cat >> "$CONF.tmp" <<EOF
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$((PORT + 2))
AccountingStoragePass=$DIR/munge/munge.socket
JobCompType=jobcomp/none
EOF
    fi
    cat >> "$CONF.tmp" <<EOF
NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
    mv "$CONF.tmp" "$CONF"
}

start_munge() {
    [ -n "$(pid_of munged)" ] && return 0
    if [ ! -s "$DIR/munge/munge.key" ]; then
        head -c 1024 /dev/urandom > "$DIR/munge/munge.key.tmp"
        chmod 400 "$DIR/munge/munge.key.tmp"
        mv "$DIR/munge/munge.key.tmp" "$DIR/munge/munge.key"
    fi
    munged --force --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
        --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" \
        --seed-file="$DIR/munge/munge.seed"
    wait_for 10 munged munge -n -S "$DIR/munge/munge.socket"
}

start_mariadb() {
    [ -n "$(pid_of mariadbd)" ] && return 0
    if [ ! -d "$DIR/mysql/mysql" ]; then
        mariadb-install-db --no-defaults --datadir="$DIR/mysql" --user=root --skip-test-db \
            --auth-root-authentication-method=normal > "$DIR/log/mariadb-install.log" 2>&1 \
            || die "mariadb-install-db failed; see $DIR/log/mariadb-install.log"
    fi
    # skip-grant-tables: the database only listens on loopback and only slurmdbd uses it
    mariadbd --no-defaults --datadir="$DIR/mysql" --user=root --bind-address=127.0.0.1 \
        --port=$((PORT + 3)) --socket="$DIR/run/mysql.sock" --pid-file="$DIR/run/mariadbd.pid" \
        --log-error="$DIR/log/mariadb.log" --skip-grant-tables --innodb-buffer-pool-size=64M \
        >/dev/null 2>&1 &
    wait_for 60 mariadb mariadb-admin --no-defaults --socket="$DIR/run/mysql.sock" ping
}

start_slurmdbd() {
    [ -n "$(pid_of slurmdbd)" ] && return 0
    cat > "$DIR/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$((PORT + 2))
SlurmUser=root
PidFile=$DIR/run/slurmdbd.pid
LogFile=$DIR/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$((PORT + 3))
StorageUser=root
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$DIR/slurmdbd.conf"
    slurmdbd
    wait_for 60 slurmdbd sacctmgr -n list cluster
}

cluster_answers() {
    SLURM_CONF=$CONF sinfo -h -n localhost -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'
}

up() {
    local accounting=no
    [ "${1:-}" = --accounting ] && accounting=yes
    [ "$(id -u)" -eq 0 ] || die "must run as root (the Slurm daemons run as root)"
    local packages=(slurm-wlm munge)
    [ $accounting = yes ] && packages+=(slurmdbd mariadb-server)
    install_packages "${packages[@]}"
    mkdir -p "$DIR"/{ctld,spool,run,log,munge}
    chmod 755 "$DIR" "$DIR/munge"
    export SLURM_CONF=$CONF
    local had_accounting=no
    grep -q '^AccountingStorageType' "$CONF" 2>/dev/null && had_accounting=yes
    if [ $had_accounting != $accounting ] && [ -n "$(pid_of slurmctld)" ]; then
        echo "local_slurm: accounting $had_accounting -> $accounting: restarting" >&2
        down_daemons
    fi
    [ -f "$CONF" ] && [ $had_accounting = $accounting ] || write_config $accounting
    start_munge
    if [ $accounting = yes ]; then start_mariadb; start_slurmdbd; fi
    if [ -z "$(pid_of slurmctld)" ]; then
        slurmctld -f "$CONF"
        wait_for 30 slurmctld scontrol ping
        if [ $accounting = yes ]; then
            sacctmgr -i add cluster danet >/dev/null 2>&1 || true
        fi
    fi
    if [ -z "$(pid_of slurmd)" ]; then
        slurmd -f "$CONF" -N localhost
    fi
    wait_for 60 "the node" cluster_answers
    echo "export SLURM_CONF=$CONF"
}

down_daemons() {
    local name pid
    for name in "${DAEMONS[@]}"; do
        pid=$(pid_of "$name")
        [ -n "$pid" ] || continue
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        rm -f "$DIR/run/$name.pid"
    done
}

down() {
    [ -d "$DIR" ] || return 0
    [ "$(id -u)" -eq 0 ] || die "must run as root"
    if [ -n "$(pid_of slurmctld)" ]; then   # jobs of this cluster die with it
        SLURM_CONF=$CONF scancel --full --quiet --user=root >/dev/null 2>&1 || true
    fi
    down_daemons
    rm -rf "$DIR"
}

case "${1:-}" in
    up) shift; up "$@" ;;
    down) down ;;
    status) [ -n "$(pid_of slurmctld)" ] && [ -n "$(pid_of slurmd)" ] && cluster_answers ;;
    *) die "usage: tools/local_slurm.sh up [--accounting] | down | status" ;;
esac
