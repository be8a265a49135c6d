# Faults under mpirun with 2 ranks: a rank killed with SIGKILL, and an error
# on one rank only, must end the whole job promptly and non-zero, never hang
# it. Each job would train for minutes if left alone; `timeout 60` turns a
# hang into a failure instead of a blocked CI.
source "$(dirname "$0")/clilib.sh" "$@"
command -v mpirun >/dev/null || { echo "skip: no mpirun"; finish; exit; }
SPEC="--set data.dataset=synthetic --set data.train_size=1024 --set data.test_size=256 --set model.arch=cnn --set model.widths=[4,8] --set model.fc=16 --set optim.batch_size=16 --set optim.epochs=200 --set run.eval_every=0.5 --set dist.workers=2 --set dist.algorithm=localsgd --set dist.tau=2 --set run.threads=1 --quiet"
ms() { date +%s%3N; }

# descendants PID: every process below PID (mpirun starts the ranks itself or via a daemon).
descendants() {
  local p
  for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do echo "$p"; descendants "$p"; done
}

# (a) Rank 1 killed with SIGKILL once training is under way.
timeout 60 $MPIRUN -np 2 "$DPPF" train base.yaml $SPEC --set run.out_dir=killed >"$WORK/out" 2>&1 &
job=$!
for i in $(seq 600); do  # up to 60 s for the first evaluation rows
  [ -s killed/metrics.csv ] && [ "$(wc -l < killed/metrics.csv)" -ge 3 ] && break
  sleep 0.1
done
rank1=""
for p in $(descendants $job); do
  grep -qa '^OMPI_COMM_WORLD_RANK=1$' <(tr '\0' '\n' < /proc/$p/environ 2>/dev/null) && rank1=$p
done
if [ -n "$rank1" ]; then
  pass "training under way, rank 1 is pid $rank1"
  t0=$(ms)
  kill -KILL "$rank1"
  wait $job
  st=$?
  dt=$(( $(ms) - t0 ))
  [ $st -ne 0 ] && [ $st -ne 124 ] && pass "the job fails when a rank is killed (exit $st)" ||
    { fail "job after a killed rank: exit $st (124 = hung until the timeout)"; sed 's/^/    /' "$WORK/out" >&2; }
  [ $dt -lt 20000 ] && pass "it ends $dt ms after the kill" || fail "it took $dt ms to end after the kill"
  expect_output "rank 1.*(signal 9|Killed)" "mpirun reports the killed rank"
else
  fail "no rank 1 process found under mpirun (pid $job)"; sed 's/^/    /' "$WORK/out" >&2
  kill $job 2>/dev/null; wait $job
fi

# (b) An error on rank 1 only, in the middle of the run (test-only fault
# injection, lib/base/fault.h): rank 0 is waiting in a sync at that moment.
t0=$(ms)
DPPF_FAULT=error:41@1 timeout 60 $MPIRUN -np 2 "$DPPF" train base.yaml $SPEC --set run.out_dir=failed >"$WORK/stdout" 2>"$WORK/out"
st=$?
dt=$(( $(ms) - t0 ))
[ $st -ne 0 ] && [ $st -ne 124 ] && pass "an error on one rank fails the job (exit $st)" ||
  { fail "job with a failing rank: exit $st (124 = hung until the timeout)"; sed 's/^/    /' "$WORK/out" >&2; }
[ $dt -lt 30000 ] && pass "it ends promptly ($dt ms in all)" || fail "it took $dt ms"
expect_output "^dppf: error \(rank 1\): injected fault before step 41 on rank 1" "rank 1's message is on stderr"
[ "$(tail -n 1 failed/metrics.csv | cut -d, -f2)" = 32 ] && pass "rank 0 logged up to the last evaluation before the fault" ||
  fail "failed/metrics.csv ends at step $(tail -n 1 failed/metrics.csv | cut -d, -f2), expected 32"
finish
