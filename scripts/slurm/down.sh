#!/usr/bin/env bash
# Stops the single-node Slurm that scripts/slurm/up.sh started: slurmd, slurmctld,
# slurmdbd, then MariaDB and munged. Jobs still running are killed with slurmd.
#   --only NAME   stop just one daemon (slurmd, slurmctld or slurmdbd); up.sh uses it
#                 to restart a daemon whose config changed.
set -euo pipefail

# stop NAME PIDFILE: SIGTERM the daemon and wait (up to 15 s) for it to exit.
stop() {
  local name=$1 pidfile=$2 pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    echo "-- slurm: stopping $name ($pid)"
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "scripts/slurm/down.sh: $name ($pid) did not exit after 15s, sending SIGKILL" >&2
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

if [ "${1:-}" = --only ]; then
  case "${2:-}" in
    slurmd|slurmctld|slurmdbd) stop "$2" "/run/slurm/$2.pid"; exit 0 ;;
    *) echo "scripts/slurm/down.sh: --only takes slurmd, slurmctld or slurmdbd, got '${2:-}'" >&2; exit 2 ;;
  esac
fi

stop slurmd /run/slurm/slurmd.pid
stop slurmctld /run/slurm/slurmctld.pid
stop slurmdbd /run/slurm/slurmdbd.pid
if [ -x /etc/init.d/mariadb ] && mariadb-admin --protocol=socket ping >/dev/null 2>&1; then
  echo "-- slurm: stopping MariaDB"
  /etc/init.d/mariadb stop >/dev/null
fi
stop munged /run/munge/munged.pid
echo "-- slurm: down"
