# Beyond the paper's setting: non-IID partitions (partition.csv, the summary,
# layout independence, bad input) and the modeled wall-clock time of a run on
# a given network (modeled_time_s against the alpha-beta formulas).
source "$(dirname "$0")/clilib.sh" "$@"
SYN="--set data.dataset=synthetic --set data.train_size=2048 --set data.test_size=256 --set model.arch=cnn --set model.widths=[4,8] --set model.fc=16 --set optim.batch_size=16 --set optim.epochs=2 --set dist.workers=4 --set dist.algorithm=localsgd --set dist.tau=4 --set run.threads=1 --quiet"

# --- Partitions.
expect_exit 0 "a Dirichlet(0.1) partition" -- "$DPPF" train base.yaml $SYN --set data.partition=dirichlet --set data.dirichlet_alpha=0.1 --set run.out_dir=dir1
expect_output "partition +dirichlet alpha 0.1: [0-9]+\.\.[0-9]+ samples per worker, label skew 0\.[0-9]+" "the summary has the skew line"
[ "$(head -1 dir1/partition.csv)" = "worker,samples,class0,class1,class2,class3,class4,class5,class6,class7,class8,class9" ] &&
  pass "partition.csv has a row per worker and a column per class" || fail "partition.csv header: $(head -1 dir1/partition.csv)"
[ "$(tail -n +2 dir1/partition.csv | wc -l)" = 4 ] && pass "4 workers" || fail "partition.csv rows"
[ "$(awk -F, 'NR>1{s+=$2} END{print s}' dir1/partition.csv)" = 2048 ] && pass "every sample in one part" || fail "parts do not cover the set"
expect_exit 0 "the same partition with another alpha -> infinity" -- "$DPPF" train base.yaml $SYN --set data.partition=dirichlet --set data.dirichlet_alpha=1e9 --set run.out_dir=dirinf
expect_output "label skew 0\.0[0-9]" "alpha 1e9 is (nearly) the IID mix"
expect_exit 0 "2 label shards per worker" -- "$DPPF" train base.yaml $SYN --set data.partition=shards --set data.shards_per_worker=2 --set run.out_dir=sh1
# 8 shards of 256 over 10 classes of ~205: a shard spans 2-3 classes, so a
# worker's 2 shards hold at most 4 labels with more than 5% of its samples.
awk -F, 'NR>1{n=0; for(i=3;i<=NF;i++) if($i>0.05*$2) n++; if(n>4) bad=1} END{exit bad}' sh1/partition.csv &&
  pass "each worker holds few labels" || fail "shards: too many labels per worker"
expect_exit 2 "more workers than classes x shards" -- "$DPPF" train base.yaml $SYN --set data.partition=shards --set data.shards_per_worker=1 --set dist.workers=16 --set run.out_dir=sh2
expect_output "data.shards_per_worker" "names the key"
expect_exit 2 "alpha 0" -- "$DPPF" train base.yaml $SYN --set data.partition=dirichlet --set data.dirichlet_alpha=0 --set run.out_dir=dir0
expect_output "data.dirichlet_alpha" "names the key"
expect_exit 2 "an unknown partition" -- "$DPPF" train base.yaml $SYN --set data.partition=random --set run.out_dir=dirx
expect_output "data.partition.*iid, dirichlet, shards" "lists the valid ones"

if command -v mpirun >/dev/null; then
  for np in 2 4; do
    expect_exit 0 "the Dirichlet run on $np ranks" -- $MPIRUN -np $np "$DPPF" train base.yaml $SYN --set data.partition=dirichlet --set data.dirichlet_alpha=0.1 --set run.out_dir=dir$np
    cmp -s dir1/partition.csv dir$np/partition.csv && pass "the same partition on $np ranks" || fail "partition.csv differs on $np ranks"
    csv_close dir1/metrics.csv dir$np/metrics.csv 1e-5 1,2,3,4,5,6,7 "the same metrics on $np ranks"
  done
fi

# --- Modeled time: the column equals steps x step time + the alpha-beta cost
# of every counted round (all rounds of a run carry the same bytes per worker
# here, so the formulas' latency term scales with rounds, the bandwidth term
# with bytes).
for topo in ring tree ps; do
  expect_exit 0 "modeled time, $topo" -- "$DPPF" train base.yaml $SYN --set net.model=alpha_beta --set net.topology=$topo --set net.latency_us=50 --set net.bandwidth_gbps=1 --set net.step_time_s=0.01 --set run.out_dir=net-$topo
  col=$(head -1 net-$topo/metrics.csv | tr , '\n' | grep -n '^modeled_time_s$' | cut -d: -f1)
  awk -F, -v c="$col" -v topo=$topo 'NR==1{next} {
      p = 4; a = 50e-6; b = 1e9 / 8; steps = $2; rounds = $10; bytes = $11
      if (topo == "ring") comm = 2 * (p - 1) * a * rounds + 2 * (p - 1) / p * bytes / b
      else if (topo == "tree") comm = 2 * 2 * (a * rounds + bytes / b)
      else comm = 2 * a * rounds + 2 * p * bytes / b
      want = steps * 0.01 + comm; got = $c
      if (got - want > 1e-5 * want || want - got > 1e-5 * want) { print "row " NR ": " got " vs " want; bad = 1 } }
      END { exit bad }' net-$topo/metrics.csv >"$WORK/out" 2>&1 &&
    pass "modeled_time_s = steps x 0.01 s + the $topo formula" || { fail "modeled_time_s ($topo)"; sed 's/^/    /' "$WORK/out" >&2; }
done
expect_exit 0 "no network model" -- "$DPPF" train base.yaml $SYN --set run.out_dir=net-none
col=$(head -1 net-none/metrics.csv | tr , '\n' | grep -n '^modeled_time_s$' | cut -d: -f1)
[ "$(awk -F, -v c="$col" 'NR>1{print $c}' net-none/metrics.csv | sort -u)" = 0 ] && pass "modeled_time_s is 0 without a model" || fail "modeled_time_s without a model"
metrics_no_timing net-none/metrics.csv | cut -d, -f1-13 >a.csv
metrics_no_timing net-ring/metrics.csv | cut -d, -f1-13 >b.csv
cmp -s a.csv b.csv && pass "the network model changes no number of the run" || fail "net.model changed the run"
finish
