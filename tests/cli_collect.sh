# dppf collect: one row per run with the spec keys that differ, the final
# metrics as written and the sharpness measures of sharpness.csv.
source "$(dirname "$0")/clilib.sh" "$@"
TINY="--set data.dataset=synthetic --set data.shape=[1,8,8] --set data.train_size=256 --set data.test_size=64
      --set model.arch=mlp --set model.hidden=[8] --set optim.epochs=1 --set run.eval_every=0.5 --quiet"
expect_exit 0 "run a" -- "$DPPF" train base.yaml $TINY --set optim.lr=0.05 --set run.out_dir=runs/a
expect_exit 0 "run b" -- "$DPPF" train base.yaml $TINY --set optim.lr=0.1 --set dist.workers=2 --set run.out_dir=runs/b
"$DPPF" sharpness runs/b/checkpoint.bin --csv --measures sam --samples 64 > runs/b/sharpness.csv 2>/dev/null

expect_exit 0 "collect --csv" -- "$DPPF" collect --csv runs/a runs/b/
cp "$WORK/out" c.csv
head -n 1 c.csv | grep -q '^run,optim.lr,dist.workers,epoch,step,lr,train_loss,' && pass "header: run, the differing keys, metrics" ||
  fail "header: $(head -n 1 c.csv)"
grep -q 'run.seed\|model.arch\|run.out_dir' <(head -n 1 c.csv) && fail "keys that do not differ are listed" || pass "equal keys left out"
head -n 1 c.csv | grep -q ',sharpness.train_loss,sharpness.train_acc,sharpness.sam$' && pass "sharpness measures as columns" ||
  fail "no sharpness columns: $(head -n 1 c.csv)"
[ "$(wc -l < c.csv)" = 3 ] && pass "one row per run" || fail "$(wc -l < c.csv) lines"
grep -q '^runs/a,0.05,1,' c.csv && grep -q '^runs/b,0.1,2,' c.csv && pass "rows name the run and its values" || fail "$(cat c.csv)"
# the final metrics exactly as metrics.csv wrote them; a run without sharpness.csv has empty cells
last_a=$(tail -n 1 runs/a/metrics.csv)
grep -qF "runs/a,0.05,1,$last_a,,," c.csv && pass "run a: its last metrics row verbatim, empty sharpness" || fail "run a: $(sed -n 2p c.csv)"
sam=$(awk -F, '$(NF-1) == "sam" { print $NF }' runs/b/sharpness.csv)
grep -q "^runs/b,.*,$sam\$" c.csv && pass "run b: its SAM sharpness ($sam)" || fail "run b: $(sed -n 3p c.csv)"

expect_exit 0 "collect --md" -- "$DPPF" collect --md runs/a runs/b/metrics.csv
expect_output '^\| run \| optim.lr \| dist.workers \| epoch \|' "markdown header"
expect_output '^\| --- \| ---: \|' "markdown alignment row"
expect_output '^\| runs/b \| 0.1 \| 2 \|' "a file in the folder stands for it"
expect_exit 0 "collect (table)" -- "$DPPF" collect runs/a runs/b
expect_output '^run +optim.lr +dist.workers +epoch' "aligned table header"
expect_exit 3 "a folder without a run" -- "$DPPF" collect runs/a nothere
expect_output "nothere/spec.yaml" "names the missing spec"
expect_exit 2 "no folders" -- "$DPPF" collect
finish
