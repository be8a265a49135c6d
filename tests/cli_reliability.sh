# What a careless or hostile user can do to a run, and what dppf must do:
# two runs in one folder, --force over a finished run, a resume that changes
# the run, SIGTERM/SIGINT mid-run, a run too large for memory, MPI ranks
# started with different specs, a landscape whose loss overflows, an empty
# spec. Every job that could hang runs under `timeout`.
source "$(dirname "$0")/clilib.sh" "$@"
# 1024 samples, batch 16, 2 workers: 32 steps an epoch.
SYN="--set data.dataset=synthetic --set data.train_size=1024 --set data.test_size=256 --set model.arch=cnn --set model.widths=[4,8] --set model.fc=16 --set optim.batch_size=16 --set dist.workers=2 --set dist.algorithm=dppf --set dist.tau=2 --set dist.pull=0.5 --set dist.push=0.01 --set run.threads=1 --quiet"
SPE=32

# --- One run per folder: a second run is refused while the first holds the lock.
# --foreground: timeout forwards our SIGTERM to dppf once; without it, it also
# signals its process group, and a second SIGTERM (which kills, by design)
# could reach dppf after the first was handled: a flaky test on a busy machine.
timeout --foreground 120 "$DPPF" train base.yaml $SYN --set optim.epochs=500 --set run.out_dir=busy >busy.log 2>&1 &
first=$!
for i in $(seq 300); do [ -s busy/metrics.csv ] && break; sleep 0.1; done
expect_exit 3 "a second run into a folder in use" -- timeout 60 "$DPPF" train base.yaml $SYN --set run.out_dir=busy --force
expect_output "in use by another run \(process [0-9]+" "names the holder's pid"
holder=$(grep -oE 'process [0-9]+' "$WORK/out" | grep -oE '[0-9]+')
[ "$(cat /proc/$holder/comm 2>/dev/null)" = dppf ] && pass "that pid is the running dppf" || fail "pid $holder is not dppf"
kill -TERM $first
wait $first
st=$?
[ $st -eq 143 ] && pass "SIGTERM stops the run with exit 143" || { fail "SIGTERM: exit $st"; sed 's/^/    /' busy.log >&2; }
grep -q "stopped by SIGTERM at step [0-9]*.*--resume busy/checkpoint.bin" busy.log &&
  pass "says where it stopped and how to continue" || { fail "stop message"; sed 's/^/    /' busy.log >&2; }
[ -f busy/checkpoint.bin ] && pass "the stopped run wrote its checkpoint" || fail "no checkpoint after SIGTERM"
ls busy | grep -q '\.tmp\.' && fail "temp files left after SIGTERM" || pass "no temp files after SIGTERM"

# --- A stop between two evaluations resumes bit for bit.
expect_exit 0 "a 3-epoch reference run" -- "$DPPF" train base.yaml $SYN --set optim.epochs=3 --set run.out_dir=ref
DPPF_FAULT=sigterm:45 "$DPPF" train base.yaml $SYN --set optim.epochs=3 --set run.out_dir=cut >cut.log 2>&1
st=$?
[ $st -eq 143 ] && pass "a SIGTERM at step 45 stops the run (exit 143)" || { fail "SIGTERM at step 45: exit $st"; sed 's/^/    /' cut.log >&2; }
grep -q "at step 45 " cut.log && pass "it stops after step 45, mid-epoch" || { fail "stop step"; sed 's/^/    /' cut.log >&2; }
expect_exit 0 "resuming the stopped run" -- "$DPPF" train --resume cut/checkpoint.bin --quiet
cmp -s <(metrics_no_timing ref/metrics.csv) <(metrics_no_timing cut/metrics.csv) &&
  pass "metrics.csv equals the uninterrupted run's (timing aside)" ||
  { fail "resumed metrics differ"; diff <(metrics_no_timing ref/metrics.csv) <(metrics_no_timing cut/metrics.csv) | head -5 >&2; }
"$DPPF" eval --checkpoint ref/checkpoint.bin --csv | tail -1 | cut -d, -f2- >a.csv
"$DPPF" eval --checkpoint cut/checkpoint.bin --csv | tail -1 | cut -d, -f2- >b.csv
cmp -s a.csv b.csv && pass "the final models agree" || fail "final models differ: $(cat a.csv) vs $(cat b.csv)"

# --- --force replaces a finished run: no output of the old run is left beside the new.
expect_exit 0 "a run with periodic checkpoints" -- "$DPPF" train base.yaml $SYN --set optim.epochs=2 --set run.checkpoint_every=1 --set run.out_dir=forced
expect_exit 4 "--force with a diverging run" -- "$DPPF" train base.yaml $SYN --set optim.epochs=2 --set run.out_dir=forced --set optim.lr=1e6 --force
[ ! -e forced/checkpoint.bin ] && [ ! -e forced/checkpoint-e1.bin ] && [ ! -e forced/curves.png ] &&
  pass "the old run's checkpoints and curves are gone" || fail "old outputs left: $(ls forced)"
expect_output "no checkpoint was written yet" "the message describes the folder as it is"

# --- A resume that changes the run is refused; one that extends it is not.
expect_exit 0 "a 1-epoch run" -- "$DPPF" train base.yaml $SYN --set optim.epochs=1 --set run.out_dir=res
cp res/checkpoint.bin res/start.bin
expect_exit 2 "resuming with other data and lr" -- "$DPPF" train --resume res/start.bin --set data.train_size=512 --set optim.lr=0.2 --set run.out_dir=res2
expect_output "changes 2 keys.*data.train_size \(1024 -> 512\).*optim.lr \(0.05 -> 0.2\)" "lists the changed keys with both values"
[ ! -e res2/metrics.csv ] && pass "nothing was written" || fail "res2 written"
cmp -s res/checkpoint.bin res/start.bin && pass "the source checkpoint is untouched" || fail "res/checkpoint.bin changed"
expect_exit 0 "resuming with more epochs elsewhere" -- "$DPPF" train --resume res/start.bin --set optim.epochs=2 --set run.out_dir=res3 --set run.eval_every=0.5

# --- A run too large for memory is refused at once with the numbers (exit 5).
# (AddressSanitizer reserves terabytes of shadow address space: no ulimit -v there.)
if ldd "$DPPF" 2>/dev/null | grep -q libasan; then
  echo "skip: ulimit -v under AddressSanitizer"
else
  expect_exit 5 "an MLP of 2 x 30000 hidden units under a 3 GB limit" -- bash -c "ulimit -v 3000000; exec timeout 60 \"$DPPF\" train base.yaml $SYN --set model.arch=mlp --set model.hidden=[30000,30000] --set run.out_dir=huge"
  expect_output "needs at least [0-9.]+ MiB .* but [0-9.]+ MiB are available \(ulimit -v" "says how much it needs and what is available"
  expect_output "--force-memory" "names the override"
  [ ! -e huge/spec.yaml ] && pass "nothing was written" || fail "huge/ written"
fi
expect_exit 5 "synthetic 1x4096x4096 images" -- timeout 60 "$DPPF" train base.yaml $SYN --set data.shape=[1,4096,4096] --set run.out_dir=huge2 --set run.threads=1
expect_output "needs at least" "refused before loading the data"

# --- A dataset error leaves no spec.yaml.
expect_exit 3 "a missing data folder" -- "$DPPF" train base.yaml --set data.dataset=mnist --set data.path=nowhere --set run.out_dir=nodata --quiet
[ ! -e nodata/spec.yaml ] && pass "no spec.yaml for a run that never started" || fail "nodata/spec.yaml written"

# --- An empty spec is run, with a warning.
expect_exit 0 "an empty spec with --set options" -- "$DPPF" train base.yaml $SYN --set optim.epochs=1 --set run.out_dir=empty
expect_output "warning: spec 'base.yaml' sets no keys" "warns that the spec file sets nothing"

# --- A landscape whose loss overflows is an error, not a file of NaN: 13
# linear layers without BN, each weight moved by up to 1000, overflow float.
expect_exit 0 "a deep MLP without BN" -- "$DPPF" train base.yaml $SYN --set model.arch=mlp --set model.hidden=[16,16,16,16,16,16,16,16,16,16,16,16] --set model.batchnorm=false --set dist.workers=1 --set dist.algorithm=ddp --set optim.epochs=1 --set run.out_dir=deep
expect_exit 4 "a landscape far from the model" -- "$DPPF" landscape deep/checkpoint.bin --mode random --range 1000 --norm none --grid 5 --samples 64 --out far --quiet
expect_output "NaN or Inf at [0-9]+ of 5 points.*smaller --range" "says which points and what to do"
[ ! -e far/landscape-1d-random.csv ] && pass "no CSV of NaN" || fail "far/landscape-1d-random.csv written"

# --- MPI ranks with different specs: exit 2 naming the key, on every rank, no hang.
if command -v mpirun >/dev/null; then
  expect_exit 2 "ranks started with different model.fc" -- timeout 60 $MPIRUN -np 1 "$DPPF" train base.yaml $SYN --set run.out_dir=mix : -np 1 "$DPPF" train base.yaml $SYN --set run.out_dir=mix --set model.fc=32
  expect_output "model.fc is 32 here but 16 on rank 0" "names the key and both values"
  expect_exit 2 "ranks with a different optim.lr" -- timeout 60 $MPIRUN -np 1 "$DPPF" train base.yaml $SYN --set run.out_dir=mix2 : -np 1 "$DPPF" train base.yaml $SYN --set run.out_dir=mix2 --set optim.lr=0.1
  expect_output "optim.lr is 0.1 here but 0.05 on rank 0" "a different learning rate is refused too"
else
  echo "skip: no mpirun"
fi
finish
