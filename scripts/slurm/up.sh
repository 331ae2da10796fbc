#!/usr/bin/env bash
# Installs and starts a single-node Slurm on this machine for the cluster tests
# (test/slurm/): munged, MariaDB + slurmdbd (so sacct reports finished jobs), slurmctld
# and slurmd, all as root daemons without systemd. Idempotent: a second run keeps the
# running cluster (restarting a daemon only when its config changed) and re-checks it.
# Ends with a smoke test: a trivial job, which sacct must show COMPLETED.
#
# Needs root and Debian 12 (apt: slurm-wlm 22.05, munge, slurmdbd, mariadb-server).
# Logs: $SLURM_LOG_DIR (default /var/log/slurm). Stop with scripts/slurm/down.sh.
#
# Memory: jobs are confined with task/cgroup (cgroup v1 memory controller), so a job
# over its --mem ends as OUT_OF_MEMORY in sacct. Where that controller is not mounted
# (or with MU_SLURM_CGROUP=no), jobacct_gather/linux kills over-memory jobs by polling
# RSS every second (OverMemoryKill): sacct then says FAILED, ExitCode 0:9, and the job
# log "Exceeded job memory limit". MU_SLURM_CGROUP=yes forces cgroups.
set -euo pipefail

LOG_DIR=${SLURM_LOG_DIR:-/var/log/slurm}
CLUSTER=mupipe
DB_PASS=mupipe-slurmdbd # local-only database user; the port is not opened beyond localhost
WAIT_SECONDS=${SLURM_UP_TIMEOUT:-60}
HERE=$(cd "$(dirname "$0")" && pwd)

step() { echo "-- slurm: $*"; }
fail() { echo "scripts/slurm/up.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root (installs packages and starts daemons)"
start_time=$(date +%s)

# 1. Packages ---------------------------------------------------------------------------
need_pkgs=()
for p in slurm-wlm slurmdbd munge mariadb-server; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  step "installing ${need_pkgs[*]}"
  # policy-rc.d 101: apt must not start the services itself (no systemd here; we start them below).
  policy_added=no
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_added=yes
  fi
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      slurm-wlm slurmdbd munge mariadb-server; } > "/tmp/slurm-apt.log" 2>&1 \
    || { [ $policy_added = yes ] && rm -f /usr/sbin/policy-rc.d; tail -20 /tmp/slurm-apt.log >&2; fail "apt-get install failed (log: /tmp/slurm-apt.log)"; }
  [ $policy_added = yes ] && rm -f /usr/sbin/policy-rc.d
else
  step "packages already installed"
fi

mkdir -p "$LOG_DIR" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /run/slurm /run/munge /etc/slurm

# 2. Configuration ----------------------------------------------------------------------
NODE=$(hostname -s)
getent hosts "$NODE" >/dev/null || fail "hostname $NODE does not resolve (add it to /etc/hosts)"
CPUS=$(nproc)
mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
# Leave 10% (at least 512 MB) for the OS and the daemons; slurmd drains a node that
# reports less memory than RealMemory.
margin=$(( mem_mb / 10 > 512 ? mem_mb / 10 : 512 ))
REAL_MEM=$(( mem_mb - margin ))
# A job without --mem gets its CPU share of memory instead of the whole node, so two
# one-CPU jobs can run side by side.
DEF_MEM_PER_CPU=$(( REAL_MEM / CPUS ))

# Memory limits through cgroup v1's memory controller when it is mounted (hybrid layout,
# as on the CI machines); Slurm 22.05's cgroup/v2 plugin expects systemd to delegate.
if [ -z "${MU_SLURM_CGROUP:-}" ]; then
  if grep -qE '^cgroup /sys/fs/cgroup/memory cgroup ' /proc/mounts; then MU_SLURM_CGROUP=yes; else MU_SLURM_CGROUP=no
    step "no cgroup v1 memory controller: over-memory jobs are killed by polling (sacct: FAILED, not OUT_OF_MEMORY)"
  fi
fi
if [ "$MU_SLURM_CGROUP" = yes ]; then
  PROCTRACK=proctrack/cgroup; TASK=task/cgroup; GATHER=jobacct_gather/cgroup; GATHER_PARAMS=""
else
  PROCTRACK=proctrack/linuxproc; TASK=task/none; GATHER=jobacct_gather/linux; GATHER_PARAMS="JobAcctGatherParams=OverMemoryKill"
fi

changed=()
# write_conf FILE MODE: stdin becomes FILE when different; records FILE in `changed`.
write_conf() {
  local tmp; tmp=$(mktemp)
  cat > "$tmp"
  if ! cmp -s "$tmp" "$1"; then mv "$tmp" "$1"; changed+=("$1"); else rm -f "$tmp"; fi
  chmod "$2" "$1"
}

write_conf /etc/slurm/slurm.conf 644 <<EOF
# Written by mu-pipe scripts/slurm/up.sh: a single-node cluster for tests.
ClusterName=$CLUSTER
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ReturnToService=2
MpiDefault=none
MailProg=/bin/true

ProctrackType=$PROCTRACK
TaskPlugin=$TASK
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$DEF_MEM_PER_CPU

# Quick turnaround for tests: schedule on every event, short kill grace.
SchedulerType=sched/builtin
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
KillWait=2
OverTimeLimit=0
InactiveLimit=0
Waittime=0
# Finished jobs stay in squeue (state CD/F/...) this many seconds, then only sacct has them.
MinJobAge=30
MessageTimeout=10

AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobCompType=jobcomp/none
JobAcctGatherType=$GATHER
JobAcctGatherFrequency=task=1
$GATHER_PARAMS

NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$REAL_MEM State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

write_conf /etc/slurm/cgroup.conf 644 <<EOF
# Written by mu-pipe scripts/slurm/up.sh
CgroupPlugin=cgroup/v1
ConstrainCores=yes
ConstrainRAMSpace=yes
ConstrainSwapSpace=yes
AllowedSwapSpace=0
EOF

write_conf /etc/slurm/slurmdbd.conf 600 <<EOF
# Written by mu-pipe scripts/slurm/up.sh
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=/run/slurm/slurmdbd.pid
LogFile=$LOG_DIR/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF

# 3. Daemons ----------------------------------------------------------------------------
# running PIDFILE: the daemon whose pid is in PIDFILE is alive.
running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
# restart_if_changed PIDFILE CONF...: stop the daemon when one of its configs changed.
restart_if_changed() {
  local pidfile=$1; shift
  for f in "$@"; do
    for c in "${changed[@]+"${changed[@]}"}"; do
      if [ "$c" = "$f" ] && running "$pidfile"; then
        step "$(basename "$f") changed: restarting $(basename "$pidfile" .pid)"
        bash "$HERE/down.sh" --only "$(basename "$pidfile" .pid)"
        return
      fi
    done
  done
}
# wait_for WHAT CMD...: retry CMD for up to WAIT_SECONDS.
wait_for() {
  local what=$1; shift
  local deadline=$(( $(date +%s) + WAIT_SECONDS ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt $deadline ] || fail "timed out after ${WAIT_SECONDS}s waiting for $what"
    sleep 0.5
  done
}

# munge: the package made /etc/munge/munge.key; make one if it is missing.
if [ ! -s /etc/munge/munge.key ]; then
  step "creating the munge key"
  mungekey --create --keyfile=/etc/munge/munge.key || fail "mungekey could not create /etc/munge/munge.key"
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
chown munge:munge /run/munge
if ! running /run/munge/munged.pid; then
  step "starting munged"
  runuser -u munge -- /usr/sbin/munged || fail "munged did not start (see /var/log/munge/munged.log)"
fi
wait_for "munge to encode and decode a credential" sh -c 'munge -n | unmunge'

# MariaDB for slurmdbd's accounting (the Debian init script starts mysqld_safe without systemd).
if ! mariadb-admin --protocol=socket ping >/dev/null 2>&1; then
  step "starting MariaDB"
  /etc/init.d/mariadb start > "$LOG_DIR/mariadb-start.log" 2>&1 \
    || { cat "$LOG_DIR/mariadb-start.log" >&2; fail "MariaDB did not start (log: $LOG_DIR/mariadb-start.log)"; }
fi
wait_for "MariaDB" mariadb-admin --protocol=socket ping
mariadb --protocol=socket -e "
  CREATE DATABASE IF NOT EXISTS slurm_acct_db;
  CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';" \
  || fail "could not create the slurm_acct_db database and its user in MariaDB"

restart_if_changed /run/slurm/slurmdbd.pid /etc/slurm/slurmdbd.conf
if ! running /run/slurm/slurmdbd.pid; then
  step "starting slurmdbd"
  /usr/sbin/slurmdbd || fail "slurmdbd did not start (log: $LOG_DIR/slurmdbd.log)"
fi
wait_for "slurmdbd (sacctmgr show cluster)" sacctmgr --noheader --parsable2 show cluster

# The cluster must exist in the database before slurmctld registers with slurmdbd.
if [ -z "$(sacctmgr --noheader --parsable2 show cluster "$CLUSTER" format=cluster)" ]; then
  step "adding cluster $CLUSTER to the accounting database"
  sacctmgr --immediate add cluster "$CLUSTER" >/dev/null || fail "sacctmgr add cluster $CLUSTER failed"
fi

restart_if_changed /run/slurm/slurmctld.pid /etc/slurm/slurm.conf
restart_if_changed /run/slurm/slurmd.pid /etc/slurm/slurm.conf /etc/slurm/cgroup.conf
if ! running /run/slurm/slurmctld.pid; then
  step "starting slurmctld"
  /usr/sbin/slurmctld || fail "slurmctld did not start (log: $LOG_DIR/slurmctld.log)"
fi
wait_for "slurmctld (scontrol ping)" sh -c 'scontrol ping | grep -q UP'
if ! running /run/slurm/slurmd.pid; then
  step "starting slurmd"
  /usr/sbin/slurmd || fail "slurmd did not start (log: $LOG_DIR/slurmd.log)"
fi

# 4. Node up, then a smoke test ------------------------------------------------------------
node_idle() { sinfo --noheader --nodes="$NODE" --format=%t | grep -Eq '^(idle|mix|alloc)$'; }
deadline=$(( $(date +%s) + WAIT_SECONDS ))
until node_idle; do
  state=$(sinfo --noheader --nodes="$NODE" --format='%t %E' 2>&1 || true)
  case "$state" in
    drain*|down*)
      # A node left drained/down by an earlier run (e.g. a changed RealMemory) comes back.
      scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true ;;
  esac
  [ "$(date +%s)" -lt $deadline ] || fail "node $NODE not idle after ${WAIT_SECONDS}s (sinfo: $state; logs: $LOG_DIR)"
  sleep 0.5
done

step "smoke test: a trivial job, until sacct shows it COMPLETED"
smoke_dir=$(mktemp -d)
# Polled here rather than `sbatch --wait`, whose polling backs off to 10 s.
job_id=$(sbatch --parsable --job-name=mu-pipe-smoke --chdir="$smoke_dir" \
  --output="$smoke_dir/out.log" --time=1 --mem=10M --wrap='echo smoke-ok') \
  || fail "sbatch of the smoke job failed (logs: $LOG_DIR)"
deadline=$(( $(date +%s) + WAIT_SECONDS ))
# Until sacct has the job's own record (slurmdbd first stores a placeholder named `allocation`).
until [ "$(sacct --noheader --parsable2 --allocations --format=JobName,State -j "$job_id")" = "mu-pipe-smoke|COMPLETED" ]; do
  [ "$(date +%s)" -lt $deadline ] || fail "smoke job $job_id not COMPLETED in sacct after ${WAIT_SECONDS}s (sacct: $(sacct --noheader --parsable2 --format=JobID,JobName,State,ExitCode -j "$job_id" | tr '\n' ' '); logs: $LOG_DIR)"
  sleep 0.5
done
grep -q smoke-ok "$smoke_dir/out.log" || fail "the smoke job ran but wrote no output to $smoke_dir/out.log"
rm -rf "$smoke_dir"

step "up: node $NODE ($CPUS CPUs, ${REAL_MEM} MB), smoke job $job_id COMPLETED in sacct, $(( $(date +%s) - start_time ))s"
