# End to end: train, metrics, checkpoint, eval, resume bit-identical, corruption.
source "$(dirname "$0")/clilib.sh" "$@"

if have_fashion_mnist; then
  # MLP on a 5k subset of Fashion-MNIST must reach >= 80% test accuracy.
  expect_exit 0 "mlp-smoke on Fashion-MNIST" -- "$DPPF" train "$SRC/configs/mlp-smoke.yaml" --set run.out_dir=smoke --quiet
  acc=$(tail -n 1 smoke/metrics.csv | cut -d, -f7)
  awk -v a="$acc" 'BEGIN { exit !(a >= 0.80) }' && pass "mlp-smoke test accuracy $acc >= 0.80" || fail "mlp-smoke test accuracy $acc < 0.80"
  head -n 1 smoke/metrics.csv | grep -q '^epoch,step,lr,train_loss,train_acc,test_loss,test_acc,' && pass "metrics.csv columns" || fail "metrics.csv header: $(head -n 1 smoke/metrics.csv)"
  [ -f smoke/spec.yaml ] && [ -f smoke/checkpoint.bin ] && pass "spec.yaml and checkpoint.bin written" || fail "run outputs missing"
  expect_exit 0 "eval of the checkpoint" -- "$DPPF" eval --checkpoint smoke/checkpoint.bin --csv
  evacc=$(tail -n 1 "$WORK/out" | cut -d, -f7)
  [ "$evacc" = "$acc" ] && pass "eval reproduces the final test accuracy ($evacc)" || fail "eval test acc $evacc != training's $acc"
  expect_exit 0 "eval with the resolved spec" -- "$DPPF" eval smoke/spec.yaml --checkpoint smoke/checkpoint.bin
  expect_output "test +2000" "eval table lists the test set"
else
  echo "skip: Fashion-MNIST not installed (dataset-fashion-mnist)"
fi

# Resume after k epochs gives the same metrics as an uninterrupted run, bit for bit.
SYN="--set data.dataset=synthetic --set data.train_size=1024 --set data.test_size=256 --set data.crop_pad=2 --set model.arch=cnn --set model.widths=[8,16] --set model.fc=32 --set model.dropout=0.2 --set optim.batch_size=32 --set optim.epochs=4 --set run.checkpoint_every=1 --set run.seed=7"
expect_exit 0 "uninterrupted run" -- "$DPPF" train base.yaml $SYN --set run.out_dir=full --quiet
[ -f full/checkpoint-e2.bin ] && pass "periodic checkpoint written" || fail "no full/checkpoint-e2.bin"
mkdir -p part && cp full/checkpoint-e2.bin part/ && head -n 3 full/metrics.csv > part/metrics.csv
expect_exit 0 "resume from epoch 2" -- "$DPPF" train --resume part/checkpoint-e2.bin --set run.out_dir=part --quiet
if cmp -s <(metrics_no_timing full/metrics.csv) <(metrics_no_timing part/metrics.csv); then
  pass "resumed metrics identical to the uninterrupted run"
else
  fail "resumed metrics differ"; diff <(metrics_no_timing full/metrics.csv) <(metrics_no_timing part/metrics.csv) >&2
fi

# The thread governor (run.adapt_threads) changes a step's speed, never its
# numbers: a run on up to 2 threads whose governor ran steps on 1 thread (its
# probes at least) equals the run pinned at 2 threads, bit for bit.
expect_exit 0 "2 threads, governor on" -- "$DPPF" train base.yaml $SYN --set run.threads=2 --set run.out_dir=gov-on
expect_output "threads +2, fewer on [1-9][0-9]* of [0-9]+ steps" "the governor ran steps on fewer threads"
expect_exit 0 "2 threads, pinned" -- "$DPPF" train base.yaml $SYN --set run.threads=2 --set run.adapt_threads=false --set run.out_dir=gov-off
grep -q "fewer on" "$WORK/out" && fail "a pinned run reports the governor" || pass "a pinned run has no governor"
[ -s gov-on/metrics.csv ] && cmp -s <(metrics_no_timing gov-on/metrics.csv) <(metrics_no_timing gov-off/metrics.csv) &&
  pass "governed and pinned runs: identical metrics" || fail "the governor changed the numbers"
"$DPPF" eval --checkpoint full/checkpoint.bin --csv > a.csv 2>&1
"$DPPF" eval --checkpoint part/checkpoint.bin --set run.out_dir=full --csv > b.csv 2>&1
[ "$(tail -n 1 a.csv | cut -d, -f2-)" = "$(tail -n 1 b.csv | cut -d, -f2-)" ] && pass "final models identical" || fail "final models differ: $(cat a.csv b.csv)"

# The same with 4 DPPF workers: every worker's state (params, BN buffers,
# momentum, RNG) and the run counters come back from the checkpoint.
DP="$SYN --set dist.workers=4 --set dist.algorithm=dppf --set dist.tau=3 --set dist.pull=0.3 --set dist.push=0.01 --set optim.batch_size=16"
expect_exit 0 "uninterrupted dppf run" -- "$DPPF" train base.yaml $DP --set run.out_dir=dfull --quiet
mkdir -p dpart && cp dfull/checkpoint-e1.bin dpart/ && head -n 2 dfull/metrics.csv > dpart/metrics.csv
expect_exit 0 "dppf resume from epoch 1" -- "$DPPF" train --resume dpart/checkpoint-e1.bin --set run.out_dir=dpart --quiet
if cmp -s <(metrics_no_timing dfull/metrics.csv) <(metrics_no_timing dpart/metrics.csv); then
  pass "resumed dppf metrics identical to the uninterrupted run"
else
  fail "resumed dppf metrics differ"; diff <(metrics_no_timing dfull/metrics.csv) <(metrics_no_timing dpart/metrics.csv) >&2
fi

# A corrupted checkpoint is detected and named.
cp full/checkpoint.bin bad.bin
printf '\x55' | dd of=bad.bin bs=1 seek=200 conv=notrunc status=none
expect_exit 3 "flipped byte detected" -- "$DPPF" eval --checkpoint bad.bin
expect_output "bad.bin.*(checksum|corrupt)" "corruption message names the file"
head -c 100 full/checkpoint.bin > short.bin
expect_exit 3 "truncated checkpoint detected" -- "$DPPF" eval --checkpoint short.bin
expect_exit 3 "missing checkpoint" -- "$DPPF" eval --checkpoint nothing.bin
expect_output "nothing.bin" "missing checkpoint named"
finish
