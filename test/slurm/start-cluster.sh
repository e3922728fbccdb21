#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this machine for the Slurm integration test: munged, slurmctld
# and slurmd on 127.0.0.1, with everything (munge key and socket, state, spool, logs, slurm.conf)
# under one folder, so it touches nothing of the system's and another copy can run beside it on
# other ports. Needs root and Debian's slurm-wlm and munge (Slurm 22.05).
#
#   test/slurm/start-cluster.sh [<dir>]     default $EXITLAB_SLURM_DIR or /tmp/exitlab-slurm
#   . <dir>/env                             exports SLURM_CONF (what sbatch, squeue, … read)
#   test/slurm/stop-cluster.sh [<dir>]
set -euo pipefail
dir=$(realpath -m "${1:-${EXITLAB_SLURM_DIR:-/tmp/exitlab-slurm}}")

for tool in munged slurmctld slurmd sbatch scontrol sinfo; do
  command -v "$tool" > /dev/null || { echo "start-cluster: $tool is not installed (apt-get install slurm-wlm munge)" >&2; exit 3; }
done
[ "$(id -u)" -eq 0 ] || { echo "start-cluster: must run as root (slurmd starts jobs as their user)" >&2; exit 3; }
if [ -f "$dir/env" ]; then
  echo "start-cluster: $dir already holds a cluster; stop it first (test/slurm/stop-cluster.sh $dir)" >&2
  exit 3
fi

# The first pair of free ports from 6817 up: another engineer's test cluster may hold the defaults.
port=6817
while ss -Hltn "( sport = :$port or sport = :$((port + 1)) )" | grep -q .; do port=$((port + 2)); done

mkdir -p "$dir"/{munge,state,spool,log}
chmod 0700 "$dir/munge"
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"

host=$(hostname -s)
cpus=$(nproc)
# What slurmd sees, less a margin so that the node is not drained as having less than configured.
mem=$(( $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) - 512 ))
cat > "$dir/slurm.conf" <<CONF
ClusterName=exitlab-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
KillWait=10
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
echo "export SLURM_CONF='$SLURM_CONF'" > "$dir/env"

for _ in $(seq 1 60); do
  if sinfo -h -o '%T' 2> /dev/null | grep -Eq '^(idle|mixed|allocated)'; then
    echo "start-cluster: one-node cluster up on $host (ports $port, $((port + 1))); . $dir/env"
    exit 0
  fi
  sleep 0.5
done
echo "start-cluster: the node did not come up; logs in $dir/log:" >&2
tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
"$(dirname "$0")/stop-cluster.sh" "$dir" || true
exit 1
