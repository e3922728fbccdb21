#!/usr/bin/env bash
# Stops the cluster test/slurm/start-cluster.sh started in <dir> and removes the folder: only the
# daemons whose pid files are there, never any other Slurm or munge of the machine.
#   test/slurm/stop-cluster.sh [<dir>]      default $EXITLAB_SLURM_DIR or /tmp/exitlab-slurm
set -uo pipefail
dir=$(realpath -m "${1:-${EXITLAB_SLURM_DIR:-/tmp/exitlab-slurm}}")
[ -d "$dir" ] || exit 0

pids=()
for f in slurmd.pid slurmctld.pid munge/munged.pid; do
  if [ -f "$dir/$f" ]; then
    pid=$(cat "$dir/$f")
    kill "$pid" 2> /dev/null && pids+=("$pid")
  fi
done
for pid in "${pids[@]}"; do
  for _ in $(seq 1 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2> /dev/null || true
done
rm -rf "$dir"
