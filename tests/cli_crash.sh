# Crash safety: a training run SIGKILLed at random moments (and once half-way
# through writing a checkpoint) always leaves checkpoints that load, and
# resuming from the newest one gives the uninterrupted run's metrics. The
# verdict does not depend on where the kills land: before the first
# checkpoint the run restarts, after the end it has simply finished.
source "$(dirname "$0")/clilib.sh" "$@"
# Kill delays are random; the seed is printed so a failure can be replayed
# (DPPF_CRASH_SEED=... bash tests/cli_crash.sh build/dppf .).
SEED=${DPPF_CRASH_SEED:-$(( $$ ^ $(date +%s) ))}
RANDOM=$SEED
echo "kill delays seeded with DPPF_CRASH_SEED=$SEED"

# 2 DPPF workers with augmentation and dropout, so every part of the state
# (parameters, BN buffers, momentum, RNG streams, sync counters) must come back.
# 32 steps an epoch, 6 epochs, a checkpoint after each.
SPEC="--set data.dataset=synthetic --set data.train_size=1024 --set data.test_size=256 --set data.crop_pad=2 --set model.arch=cnn --set model.widths=[8,16] --set model.fc=32 --set model.dropout=0.1 --set optim.batch_size=16 --set optim.epochs=6 --set run.checkpoint_every=1 --set run.seed=11 --set run.threads=1 --set dist.workers=2 --set dist.algorithm=dppf --set dist.tau=4 --set dist.pull=0.5 --set dist.push=0.01 --quiet"
SPE=32

t0=$(date +%s%N)
expect_exit 0 "uninterrupted run" -- "$DPPF" train base.yaml $SPEC --set run.out_dir=full
RUN_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$RUN_MS" -ge 100 ] || RUN_MS=100
echo "uninterrupted run: $RUN_MS ms"
"$DPPF" eval --checkpoint full/checkpoint.bin --csv 2>&1 | tail -n 1 | cut -d, -f2- > full.eval

same_metrics() { # DIR DESCRIPTION: DIR's metrics equal the uninterrupted run's (timing aside)
  if cmp -s <(metrics_no_timing full/metrics.csv) <(metrics_no_timing "$1/metrics.csv"); then
    pass "$2"
  else
    fail "$2"; diff <(metrics_no_timing full/metrics.csv) <(metrics_no_timing "$1/metrics.csv") | head -n 20 >&2
  fi
}

# step_of FILE: the step a checkpoint holds; fails (with the message in $WORK/out) unless it loads and evaluates.
step_of() {
  "$DPPF" eval --checkpoint "$1" --csv >"$WORK/out" 2>&1 || return 1
  tail -n 1 "$WORK/out" | cut -d, -f2
}

# latest_checkpoint DIR: checks that checkpoint.bin and the highest-numbered
# checkpoint-e<N>.bin (when present) load and evaluate, and sets LATEST to the
# one holding the later step ("" if there is none). Temp files
# (<name>.tmp.<pid>) never match these names.
latest_checkpoint() {
  LATEST=""
  local best=-1 f s
  for f in "$1/checkpoint.bin" $(ls "$1"/checkpoint-e*.bin 2>/dev/null | sort -V | tail -n 1); do
    [ -f "$f" ] || continue
    if ! s=$(step_of "$f"); then
      fail "checkpoint $f does not load after a kill"; sed 's/^/    /' "$WORK/out" >&2; continue
    fi
    [ "$s" -gt "$best" ] && { best=$s; LATEST=$f; }
  done
}

# 1. Killed half-way through writing the epoch-3 checkpoint (test-only fault
# injection, lib/base/fault.h): the half-written temp file is left, the checkpoints
# before it are intact, and resuming finishes the run as if nothing happened.
{ DPPF_FAULT=checkpoint-kill:$((3 * SPE)) "$DPPF" train base.yaml $SPEC --set run.out_dir=mid >"$WORK/out" 2>&1; } 2>/dev/null
st=$?  # (the braces keep bash's "Killed" notice out of the log)
[ "$st" -eq 137 ] && pass "killed while writing a checkpoint (exit $st)" || { fail "checkpoint-kill run: exit $st, expected 137"; cat "$WORK/out" >&2; }
[ ! -e mid/checkpoint-e3.bin ] && pass "no checkpoint-e3.bin from the interrupted write" || fail "mid/checkpoint-e3.bin exists"
tmp=$(ls mid/checkpoint-e3.bin.tmp.* 2>/dev/null | head -n 1)
if [ -n "$tmp" ]; then
  pass "the interrupted write left only a temp file ($tmp)"
  expect_exit 3 "the half-written temp file is rejected as a checkpoint" -- "$DPPF" eval --checkpoint "$tmp"
else
  fail "no temp file from the interrupted write: $(ls mid)"
fi
s=$(step_of mid/checkpoint.bin) && [ "$s" -eq $((2 * SPE)) ] && pass "checkpoint.bin still holds epoch 2 and loads" || fail "mid/checkpoint.bin: step '${s:-}' (expected $((2 * SPE)))"
expect_exit 0 "resume after the interrupted checkpoint" -- "$DPPF" train --resume mid/checkpoint.bin --quiet
same_metrics mid "metrics after the interrupted checkpoint equal the uninterrupted run's"
[ -z "$(ls mid | grep '\.tmp\.')" ] && pass "the resumed run removed the stale temp file" || fail "temp files left: $(ls mid)"

# 2. SIGKILL at random moments, each time continuing from the newest
# checkpoint (or from scratch when there is none yet). Delays of 5-100% of the
# uninterrupted run's time land before, between and during checkpoints on a
# fast machine as on a slow one (fixed delays of 0.2-1.7 s mostly came after
# the end of a 0.5 s run).
kills=0
attempt=0
completed=0
while [ "$kills" -lt 6 ] && [ "$attempt" -lt 30 ]; do
  attempt=$((attempt + 1))
  latest_checkpoint crash
  if [ -z "$LATEST" ]; then
    "$DPPF" train base.yaml $SPEC --set run.out_dir=crash --force >"$WORK/run.log" 2>&1 &
  else
    "$DPPF" train --resume "$LATEST" --quiet >"$WORK/run.log" 2>&1 &
  fi
  pid=$!
  delay=$(( RUN_MS / 20 + RANDOM % (RUN_MS - RUN_MS / 20 + 1) ))
  sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
  kill -KILL "$pid" 2>/dev/null
  { wait "$pid"; } 2>/dev/null
  st=$?
  if [ "$st" -eq 137 ]; then
    kills=$((kills + 1))
    echo "kill $kills after ${delay} ms (from ${LATEST:-scratch})"
  elif [ "$st" -eq 0 ]; then
    # Finished before the kill: check it, then start a new chain.
    completed=$((completed + 1))
    same_metrics crash "a run resumed from ${LATEST:-scratch} finished with the uninterrupted metrics"
    rm -rf crash
  else
    fail "run from ${LATEST:-scratch}: exit $st"; sed 's/^/    /' "$WORK/run.log" >&2
  fi
done
[ "$kills" -ge 5 ] && pass "$kills kills in $attempt attempts" || fail "only $kills kills in $attempt attempts"

latest_checkpoint crash
if [ -z "$LATEST" ]; then
  expect_exit 0 "final run from scratch" -- "$DPPF" train base.yaml $SPEC --set run.out_dir=crash --force
else
  expect_exit 0 "final resume from $LATEST" -- "$DPPF" train --resume "$LATEST" --quiet
fi
same_metrics crash "metrics after $kills kills equal the uninterrupted run's"
"$DPPF" eval --checkpoint crash/checkpoint.bin --csv 2>&1 | tail -n 1 | cut -d, -f2- > crash.eval
cmp -s full.eval crash.eval && pass "final model identical to the uninterrupted run's" || fail "final models differ: $(cat full.eval crash.eval)"
[ -z "$(ls crash | grep '\.tmp\.')" ] && pass "no temp files left" || fail "temp files left: $(ls crash)"
finish
