#!/usr/bin/env bash
# The cost of communication for ResNet-20 (and one sync of ResNet-18) with
# M = 4 workers on R = 2 ranks:
# (1) one sync against a bare MPI_Allreduce of the same bytes (both sync
# paths: shared memory, the default on one machine, and MPI_Allreduce), (2) training
# time of ddp (sync every step) against dppf with tau = 4 for the same steps.
# Usage: results/comm_cost.sh [STEPS]   (default 12 steps; output in results/logs/comm_cost.log)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-12}
mpirun=(mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -np 2)
common=(--set dist.workers=4 --set run.threads=1 --set optim.max_steps="$steps" --set data.test_subset=1000 --set run.eval_every=100 --quiet --force)
{
  echo "# results/comm_cost.sh $steps  ($(date -u +%Y-%m-%d), $(nproc) cores)"
  # Untimed first: on this VM the first MPI job after a pause runs every copy
  # up to 4x slower for a second or so.
  "${mpirun[@]}" build/dppf bench --comm configs/resnet20.yaml --set dist.workers=4 --set run.threads=1 --reps 400 >/dev/null
  # The default (ranks on one machine: means in shared memory), then the
  # MPI_Allreduce path that ranks on several machines take.
  for shm in 1 0; do
    echo "## bench --comm, DPPF_SYNC_SHM=$shm"
    "${mpirun[@]}" -x DPPF_SYNC_SHM=$shm build/dppf bench --comm configs/resnet20.yaml --set dist.workers=4 --set run.threads=1 --reps 200
  done
  # A large model: ResNet-18, 11.2M values (the buffers no longer fit in cache).
  for shm in 1 0; do
    echo "## bench --comm ResNet-18, DPPF_SYNC_SHM=$shm"
    "${mpirun[@]}" -x DPPF_SYNC_SHM=$shm build/dppf bench --comm configs/paper/resnet18-cifar10-dppf.yaml --set dist.workers=4 --set run.threads=1 --reps 20
  done
  for algo in ddp dppf; do
    echo "## $algo, $steps steps"
    "${mpirun[@]}" build/dppf train configs/resnet20.yaml "${common[@]}" --set dist.algorithm=$algo \
      --set dist.tau=4 --set dist.pull=0.5 --set dist.push=0.05 --set run.out_dir=runs/comm-$algo | grep -E "comm|time"
  done
} | tee results/logs/comm_cost.log
