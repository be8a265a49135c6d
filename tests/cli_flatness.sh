# dppf sharpness (and, when present, landscape) on a small multi-worker checkpoint.
source "$(dirname "$0")/clilib.sh" "$@"
SYN="--set data.dataset=synthetic --set data.train_size=512 --set data.test_size=128 --set model.arch=cnn --set model.widths=[4,8] --set model.fc=16 --set optim.batch_size=32 --set optim.epochs=2 --set dist.workers=2 --set dist.algorithm=dppf --set dist.tau=2 --set dist.pull=0.5 --set dist.push=0.02 --quiet"
expect_exit 0 "train a 2-worker checkpoint" -- "$DPPF" train base.yaml $SYN --set run.out_dir=run
FAST="--samples 128 --hessian-iters 10 --trace-samples 2 --directions 3"
expect_exit 0 "sharpness --csv" -- "$DPPF" sharpness run/checkpoint.bin $FAST --csv
head -n 1 "$WORK/out" | grep -q '^checkpoint,step,workers,samples,measure,value$' && pass "csv header" || fail "csv header: $(head -n 1 "$WORK/out")"
for m in train_loss mv imv mv_workers imv_workers sam hessian_top hessian_trace eps_sharpness; do
  v=$(awk -F, -v m="$m" '$5 == m { print $6 }' "$WORK/out")
  awk -v v="$v" 'BEGIN { exit !(v != "" && v == v + 0 && v != "nan" && v != "inf") }' && pass "$m = $v" || fail "$m missing or not finite: '$v'"
done
imv=$(awk -F, '$5 == "imv" { print $6 }' "$WORK/out"); mv=$(awk -F, '$5 == "mv" { print $6 }' "$WORK/out")
awk -v a="$imv" -v b="$mv" 'BEGIN { d = a * b - 1; exit !(d < 1e-6 && d > -1e-6) }' && pass "imv = 1/mv" || fail "imv $imv is not 1/$mv"
expect_exit 0 "sharpness table" -- "$DPPF" sharpness run/checkpoint.bin $FAST --measures mv,sam
expect_output "imv" "table lists imv"
expect_exit 2 "unknown measure" -- "$DPPF" sharpness run/checkpoint.bin --measures mv,curvature
expect_output "curvature" "unknown measure named"
expect_exit 3 "missing checkpoint" -- "$DPPF" sharpness nope.bin
expect_output "nope.bin" "missing checkpoint named"
finish
