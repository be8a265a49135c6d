# Faults around a run: an output folder that cannot be made or written, a disk
# that fills up mid-run, a folder holding another run, and a diverging run
# (NaN/Inf). Each must end with a clear message naming what failed, a
# non-zero exit, and no file that looks like a complete result.
source "$(dirname "$0")/clilib.sh" "$@"
# 512 samples, batch 16: 32 steps an epoch; a ~320 KB checkpoint after each.
SYN="--set data.dataset=synthetic --set data.train_size=512 --set data.test_size=128 --set model.arch=cnn --set model.widths=[8,16] --set model.fc=32 --set optim.batch_size=16 --set optim.epochs=2 --set run.checkpoint_every=1 --set run.threads=1 --quiet"
SPE=32

no_temp_files() {  # DIR
  local left=$(ls "$1" 2>/dev/null | grep '\.tmp\.' || true)
  [ -z "$left" ] && pass "$1: no temp files left" || fail "$1: temp files left: $left"
}
step_of() {  # CKPT: the step it holds, if it loads
  "$DPPF" eval --checkpoint "$1" --csv 2>/dev/null | tail -n 1 | cut -d, -f2
}

# --- The output folder ---
touch afile
expect_exit 3 "run.out_dir under a regular file" -- "$DPPF" train base.yaml $SYN --set run.out_dir=afile/run
expect_output "afile/run.*Not a directory" "names the folder and the reason"
# Root may write anywhere on a normal file system, but not into /sys or /proc.
for ro in /sys/kernel /proc/self; do
  [ -d "$ro" ] || continue
  expect_exit 3 "unwritable run folder $ro" -- "$DPPF" train base.yaml $SYN --set run.out_dir=$ro
  expect_output "'$ro(/spec\.yaml)?'.*(denied|not permitted|Read-only)" "names the folder or file and the reason"
done

# --- Disk full (simulated by a file size limit: writes past it fail with EFBIG) ---
# 100 KB: spec.yaml and metrics.csv fit, a checkpoint does not. SIGXFSZ keeps
# its default action (killing the process): dppf must ignore it itself.
limited() { ( ulimit -f 100; exec env --default-signal=XFSZ "$@" ); }
expect_exit 3 "disk full at the first checkpoint" -- limited "$DPPF" train base.yaml $SYN --set run.out_dir=full1
expect_output "cannot write checkpoint 'full1/checkpoint-e1\.bin'.*(disk full|too large)" "names the checkpoint and says disk full"
[ -z "$(ls full1 | grep -E '^checkpoint.*\.bin$')" ] && pass "no checkpoint file left" || fail "checkpoint files left: $(ls full1)"
no_temp_files full1
last=$(tail -n 1 full1/metrics.csv | cut -d, -f2)
[ "$last" = "$SPE" ] && pass "metrics.csv stops at the failed checkpoint (step $last), short of the run's end" || fail "metrics.csv ends at step '$last'"
# With an older checkpoint: continuing a finished 2-epoch run for 2 more
# epochs fails at the epoch-3 checkpoint and keeps the epoch-2 one intact.
expect_exit 0 "a 2-epoch run" -- "$DPPF" train base.yaml $SYN --set run.out_dir=full2
expect_exit 3 "disk full while continuing it" -- limited "$DPPF" train --resume full2/checkpoint.bin --set optim.epochs=4 --quiet
expect_output "cannot write checkpoint 'full2/checkpoint-e3\.bin'.*unchanged" "names the checkpoint, says the old one is unchanged"
[ "$(step_of full2/checkpoint.bin)" = $((2 * SPE)) ] && pass "the older checkpoint.bin (epoch 2) is intact" || fail "full2/checkpoint.bin does not load at step $((2 * SPE))"
[ ! -e full2/checkpoint-e3.bin ] && pass "no checkpoint-e3.bin" || fail "full2/checkpoint-e3.bin exists"
no_temp_files full2

# --- A folder that holds another run ---
expect_exit 2 "a folder holding another run is refused" -- "$DPPF" train base.yaml $SYN --set run.out_dir=full2 --set run.seed=5
expect_output "already holds a run.*--force.*--resume" "the refusal says what to do (--force, --resume)"
[ "$(step_of full2/checkpoint.bin)" = $((2 * SPE)) ] && pass "the other run is untouched" || fail "full2/checkpoint.bin changed"

# --- Divergence ---
# From the start: stops at the step, names worker, step and layer or tensor.
expect_exit 4 "a diverging run stops with the NaN/Inf code" -- "$DPPF" train base.yaml $SYN --set run.out_dir=nan1 --set optim.lr=1e6
expect_output "step [0-9]+ \(epoch [0-9.]+\), worker 0" "the message names step and worker"
expect_output "(layer|parameter tensor) [a-z0-9_.]+" "the message names the layer or tensor"
expect_output "lower optim\.lr.*no checkpoint was written" "says what to do and that there is no checkpoint"
[ ! -e nan1/checkpoint.bin ] && pass "no checkpoint of the diverged model" || fail "nan1/checkpoint.bin written"
# After good checkpoints: the last good one stays loadable and is named. A
# learning rate that warms up to 100 over 4 epochs diverges at step 94 (in
# epoch 3, after the checkpoints of epochs 1 and 2).
expect_exit 4 "a run whose lr warms up too far diverges in epoch 3" -- "$DPPF" train base.yaml $SYN --set run.out_dir=nan2 --set optim.epochs=4 --set optim.lr=100 --set optim.warmup_epochs=4 --set optim.schedule=constant
step=$(grep -oE 'diverged at step [0-9]+' "$WORK/out" | grep -oE '[0-9]+$')
[ -n "$step" ] && [ "$step" -gt $((2 * SPE)) ] && pass "stops at step $step, after the last checkpoint" || fail "divergence step '$step'"
expect_output "the last checkpoint, 'nan2/checkpoint\.bin' \(step $((2 * SPE))\), is intact" "names the intact last checkpoint"
[ "$(step_of nan2/checkpoint.bin)" = $((2 * SPE)) ] && pass "the last good checkpoint loads" || fail "nan2/checkpoint.bin does not load at step $((2 * SPE))"
[ ! -e nan2/checkpoint-e3.bin ] && pass "no checkpoint after the divergence" || fail "nan2/checkpoint-e3.bin written"
no_temp_files nan2
finish
