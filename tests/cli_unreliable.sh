# Unreliable synchronisation (dist.drop_prob, participation, stragglers, a
# network partition): the same numbers on any rank layout, drop_prob 0 the
# same as a reliable run bit for bit, counters in metrics.csv, bad input.
source "$(dirname "$0")/clilib.sh" "$@"
SYN="--set data.dataset=synthetic --set data.train_size=2048 --set data.test_size=256 --set model.arch=cnn --set model.widths=[4,8] --set model.fc=16 --set optim.batch_size=16 --set optim.epochs=2 --set dist.workers=4 --set dist.tau=4 --set run.threads=1 --quiet"
col() { head -1 "$1" | tr , '\n' | grep -n "^$2\$" | cut -d: -f1; }

expect_exit 0 "a reliable LocalSGD run" -- "$DPPF" train base.yaml $SYN --set dist.algorithm=localsgd --set run.out_dir=rel
expect_exit 0 "the same with drop_prob 0 and participation 1 given" -- "$DPPF" train base.yaml $SYN --set dist.algorithm=localsgd --set dist.drop_prob=0 --set dist.participation=1 --set run.out_dir=rel0
cmp -s <(metrics_no_timing rel/metrics.csv) <(metrics_no_timing rel0/metrics.csv) &&
  pass "drop_prob 0 is bit-identical to no faults" || fail "drop_prob 0 changed the run"

FAULTS="--set dist.drop_prob=0.3 --set dist.participation=0.75 --set dist.straggler_prob=0.2 --set dist.straggler_delay=2"
for alg in localsgd dppf easgd ddp; do
  extra=""; [ $alg = dppf ] && extra="--set dist.pull=0.5 --set dist.push=0.01"
  expect_exit 0 "$alg with dropped, partial and late syncs" -- "$DPPF" train base.yaml $SYN $FAULTS $extra --set dist.algorithm=$alg --set run.out_dir=u-$alg
  c=$(col u-$alg/metrics.csv participants_mean); m=$(col u-$alg/metrics.csv syncs_missed)
  awk -F, -v c=$c -v m=$m 'END { if (!($c > 1.6 && $c < 2.6 && $m > 0)) exit 1 }' u-$alg/metrics.csv &&
    pass "$alg: about 3 x 0.7 = 2.1 workers a sync, and missed syncs counted" ||
    fail "$alg: participants_mean $(tail -1 u-$alg/metrics.csv | cut -d, -f$c), missed $(tail -1 u-$alg/metrics.csv | cut -d, -f$m)"
done
expect_exit 0 "a network partition in epoch 1" -- "$DPPF" train base.yaml $SYN --set dist.algorithm=localsgd "--set" "dist.split_epochs=[0.5,1.5]" --set run.out_dir=split

if command -v mpirun >/dev/null; then
  for np in 2 4; do
    expect_exit 0 "dppf with faults on $np ranks" -- $MPIRUN -np $np "$DPPF" train base.yaml $SYN $FAULTS --set dist.algorithm=dppf --set dist.pull=0.5 --set dist.push=0.01 --set run.out_dir=u-dppf-$np
    cmp -s <(metrics_no_timing u-dppf/metrics.csv) <(metrics_no_timing u-dppf-$np/metrics.csv) &&
      pass "the same draws and numbers on $np ranks" || csv_close u-dppf/metrics.csv u-dppf-$np/metrics.csv 1e-5 1,2,3,4,5,6,7 "the same numbers on $np ranks (within float tolerance)"
  done
  expect_exit 0 "the partition on 2 ranks" -- $MPIRUN -np 2 "$DPPF" train base.yaml $SYN --set dist.algorithm=localsgd "--set" "dist.split_epochs=[0.5,1.5]" --set run.out_dir=split2
  csv_close split/metrics.csv split2/metrics.csv 1e-5 1,2,3,4,5,6,7 "the partition: the same numbers on 2 ranks"
fi

# Resume: stopped mid-run, continued, equal to the uninterrupted run.
DPPF_FAULT=sigterm:40 "$DPPF" train base.yaml $SYN $FAULTS --set dist.algorithm=dppf --set dist.pull=0.5 --set dist.push=0.01 --set run.out_dir=cut >cut.log 2>&1
[ $? -eq 143 ] && pass "stopped at step 40" || fail "SIGTERM at step 40: $(cat cut.log)"
expect_exit 0 "resumed" -- "$DPPF" train --resume cut/checkpoint.bin --quiet
cmp -s <(metrics_no_timing u-dppf/metrics.csv) <(metrics_no_timing cut/metrics.csv) &&
  pass "the resumed unreliable run equals the uninterrupted one" || fail "resume changed the unreliable run"

# Bad input names the key.
expect_exit 2 "drop_prob 1.5" -- "$DPPF" train base.yaml $SYN --set dist.drop_prob=1.5 --set run.out_dir=bad1
expect_output "dist.drop_prob" "names dist.drop_prob"
expect_exit 2 "participation 0" -- "$DPPF" train base.yaml $SYN --set dist.participation=0 --set run.out_dir=bad2
expect_output "dist.participation" "names dist.participation"
expect_exit 2 "split epochs out of order" -- "$DPPF" train base.yaml $SYN "--set" "dist.split_epochs=[2,1]" --set run.out_dir=bad3
expect_output "dist.split_epochs: \[a, b\] must have a < b" "says the order is wrong"
expect_exit 2 "a partition of easgd" -- "$DPPF" train base.yaml $SYN --set dist.algorithm=easgd "--set" "dist.split_epochs=[0,1]" --set run.out_dir=bad4
expect_output "dist.split_epochs: easgd keeps one state" "says why easgd cannot be split"
finish
