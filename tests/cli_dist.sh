# Distributed algorithms end to end, in one process: equivalences and exact
# communication counts (see README "Distributed training").
source "$(dirname "$0")/clilib.sh" "$@"

# Plain MLP without BN, dropout or augmentation, so the equivalences are exact in
# exact arithmetic and hold to float tolerance here.
BASE="--set data.dataset=synthetic --set data.train_size=2048 --set data.test_size=512 --set model.arch=mlp --set model.hidden=[64] --set model.batchnorm=false --set optim.epochs=2 --set optim.schedule=constant --set run.eval_every=0.25 --set run.seed=3 --quiet"

# ddp: M workers at batch B == one worker at batch M*B
expect_exit 0 "ddp M=4 B=16" -- "$DPPF" train base.yaml $BASE --set dist.workers=4 --set optim.batch_size=16 --set run.out_dir=ddp4
expect_exit 0 "ddp M=1 B=64" -- "$DPPF" train base.yaml $BASE --set dist.workers=1 --set optim.batch_size=64 --set run.out_dir=ddp1
csv_close ddp4/metrics.csv ddp1/metrics.csv 1e-4 "4,5,6,7" "ddp M=4 x B=16 equals M=1 x B=64"

# localsgd with tau = 1 and plain SGD == ddp
PLAIN="--set optim.momentum=0 --set optim.weight_decay=0 --set dist.workers=4 --set optim.batch_size=16"
expect_exit 0 "ddp plain SGD" -- "$DPPF" train base.yaml $BASE $PLAIN --set dist.algorithm=ddp --set run.out_dir=ddp_plain
expect_exit 0 "localsgd tau=1 plain SGD" -- "$DPPF" train base.yaml $BASE $PLAIN --set dist.algorithm=localsgd --set dist.tau=1 --set run.out_dir=lsgd1
csv_close ddp_plain/metrics.csv lsgd1/metrics.csv 1e-4 "4,5,6,7" "localsgd tau=1 equals ddp (plain SGD)"

# dppf with push = 0, pull = 1 is localsgd, bit for bit
W4="--set dist.workers=4 --set optim.batch_size=16 --set dist.tau=4"
expect_exit 0 "localsgd tau=4" -- "$DPPF" train base.yaml $BASE $W4 --set dist.algorithm=localsgd --set run.out_dir=lsgd4
expect_exit 0 "dppf pull=1 push=0" -- "$DPPF" train base.yaml $BASE $W4 --set dist.algorithm=dppf --set dist.pull=1 --set dist.push=0 --set run.out_dir=dppf_ls
if cmp -s <(metrics_no_timing lsgd4/metrics.csv) <(metrics_no_timing dppf_ls/metrics.csv); then
  pass "dppf(pull=1, push=0) identical to localsgd"
else
  fail "dppf(pull=1, push=0) differs from localsgd"; diff lsgd4/metrics.csv dppf_ls/metrics.csv >&2
fi

# Communication counts: steps/tau rounds of one flat buffer (params; no BN buffers
# here), reduced as doubles (8 bytes a value; see lib/dist/comm.h).
nparams=$("$DPPF" train base.yaml $BASE $W4 --set dist.algorithm=localsgd --set run.out_dir=count --set optim.epochs=1 2>/dev/null | sed -n 's/.* \([0-9][0-9]*\) parameters.*/\1/p')
last=$(tail -n 1 lsgd4/metrics.csv)
step=$(echo "$last" | cut -d, -f2); rounds=$(echo "$last" | cut -d, -f10); bytes=$(echo "$last" | cut -d, -f11)
[ "$rounds" -eq $((step / 4)) ] && pass "localsgd rounds = steps/tau ($rounds)" || fail "rounds $rounds != $step/4"
[ -n "$nparams" ] && [ "$bytes" -eq $((rounds * nparams * 8)) ] && pass "bytes = rounds x params x 8 ($bytes)" || fail "bytes $bytes != $rounds x ${nparams:-?} x 8"
last=$(tail -n 1 ddp4/metrics.csv)
[ "$(echo "$last" | cut -d, -f10)" -eq "$(echo "$last" | cut -d, -f2)" ] && pass "ddp syncs every step" || fail "ddp rounds != steps"

# dppf runs, keeps its workers apart, and reports the spread
expect_exit 0 "dppf tau=4 pull=0.5 push=0.05" -- "$DPPF" train base.yaml $BASE $W4 --set dist.algorithm=dppf --set dist.pull=0.5 --set dist.push=0.05 --set run.out_dir=dppf
spread=$(tail -n 1 dppf/metrics.csv | cut -d, -f13)
awk -v s="$spread" 'BEGIN { exit !(s > 0.01) }' && pass "dppf workers spread apart ($spread)" || fail "dppf spread $spread"
for algo in easgd qsr; do
  expect_exit 0 "$algo runs" -- "$DPPF" train base.yaml $BASE $W4 --set dist.algorithm=$algo --set run.out_dir=$algo
done

# Bad distributed settings name the key.
for bad in "dist.tau=0" "dist.push=-1" "dist.pull=1.5" "dist.workers=0" "dist.algorithm=gossip"; do
  expect_exit 2 "bad $bad" -- "$DPPF" train base.yaml $BASE --set "$bad" --set run.out_dir=bad
  expect_output "${bad%%=*}" "error for $bad names the key"
done
finish
