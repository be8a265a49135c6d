# What multi-node runs use, as far as one machine shows it: the TCP transport
# (--mca btl tcp,self instead of shared memory, over the loopback interface),
# a --hostfile, and the Slurm batch script run outside Slurm. Each gives the
# same metrics as one process (M = 4 workers on 2 ranks, within 1e-5).
# DPPF_SYNC_SHM=0: the means go through MPI_Allreduce, as across machines,
# not through the shared memory that ranks on one machine use.
source "$(dirname "$0")/clilib.sh" "$@"
command -v mpirun >/dev/null || { echo "skip: no mpirun"; finish; exit; }
TCP="--allow-run-as-root --oversubscribe -x DPPF_SYNC_SHM=0 --mca btl tcp,self --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo"
SPEC="--set data.dataset=synthetic --set data.train_size=1024 --set data.test_size=256 --set model.arch=cnn --set model.widths=[4,8] --set model.fc=16 --set optim.batch_size=16 --set optim.epochs=2 --set run.eval_every=0.5 --set dist.workers=4 --set dist.algorithm=dppf --set dist.tau=2 --set dist.pull=0.5 --set dist.push=0.02 --set run.threads=1 --quiet"
COLS="3,4,5,6,7,10,11,12,13,14,15"

expect_exit 0 "M=4 on 1 process" -- "$DPPF" train base.yaml $SPEC --set run.out_dir=r1
echo "localhost slots=2" > hosts
expect_exit 0 "M=4 on 2 ranks over TCP, hosts from a hostfile" -- \
  timeout 300 mpirun $TCP --hostfile hosts -np 2 "$DPPF" train base.yaml $SPEC --set run.out_dir=rtcp
csv_close r1/metrics.csv rtcp/metrics.csv 1e-5 "$COLS" "TCP transport: metrics equal 1 process"

bash -n "$SRC/scripts/slurm-train.sbatch" && pass "the Slurm script parses" || fail "slurm-train.sbatch: syntax"
grep -q '^#SBATCH --ntasks-per-node' "$SRC/scripts/slurm-train.sbatch" && pass "it asks Slurm for tasks" || fail "no #SBATCH lines"
expect_exit 0 "the Slurm script outside Slurm: 2 tasks of 1 CPU over TCP" -- \
  env SLURM_NTASKS=2 SLURM_CPUS_PER_TASK=1 DPPF="$DPPF" MPIRUN="timeout 300 mpirun $TCP" \
  bash "$SRC/scripts/slurm-train.sbatch" base.yaml $SPEC --set run.out_dir=rslurm
csv_close r1/metrics.csv rslurm/metrics.csv 1e-5 "$COLS" "Slurm script: metrics equal 1 process"
finish
