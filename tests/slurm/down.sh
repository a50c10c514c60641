#!/usr/bin/env bash
# Stop the single-node cluster started by tests/slurm/up.sh: only the daemons whose pids it recorded.
set -uo pipefail
DIR=${REPRO_SLURM_DIR:-/var/tmp/repro-slurm}
if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
for d in slurmd slurmctld munged; do
    pidfile="$DIR/$d.pid"
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        pid=$(cat "$pidfile")
        echo "slurm-down: stopping $d ($pid)" >&2
        $SUDO kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
done
