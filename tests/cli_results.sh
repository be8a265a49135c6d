# The result pipelines of results/: each study script in its --tiny mode (the
# study's job list on 1,024 synthetic images, a few steps a run: real
# `dppf train`, `eval`, `sharpness`, `landscape` runs) and its gather step on
# that output, which must produce every table and figure. Catches a gather
# step that a change of a column, a file name or a method breaks, without
# running the hour-long studies.
source "$(dirname "$0")/clilib.sh" "$@"
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 0; }
export DPPF NICE=""   # the binary under test; ctest's own niceness is enough
R=$SRC/results

expect_exit 0 "sweep.sh --tiny" -- bash "$R/sweep.sh" --tiny --out sweep
grep -q FAILED out && fail "a run of the sweep failed: $(grep FAILED out)" || pass "no run failed"
[ "$(grep -c "^done: " out)" = 21 ] && pass "every run of the tiny sweep (20) and the landscapes reported done" || fail "$(grep -c '^done: ' out) runs done"
expect_exit 0 "sweep.sh --tiny again skips what is done" -- bash "$R/sweep.sh" --tiny --out sweep
[ "$(grep -c '^done: [a-z]' out)" = 1 ] && pass "only the landscape line again" || fail "reran: $(grep '^done: ' out | head -3)"
expect_exit 0 "gather.py on it" -- python3 "$R/gather.py" --tiny --sweep sweep --out paper
for f in tables.md runs.csv adaptive-spread.csv accuracy-vs-comm.png accuracy-vs-comm-new.png accuracy-sam.png \
         imv-vs-gap.png push-pull-law.png push-pull-law-step.png adaptive-spread.png landscape-localsgd.png \
         landscape-dppf.png landscape-dppf-workers-plane.png; do
  [ -s "paper/$f" ] || fail "gather wrote no paper/$f"
done
pass "gather wrote its tables and figures"
for m in ddp ddp-sam localsgd localsgd-sam easgd qsr dppf dppf-sam dppf-step dppf-adaptive lsgd mgrawa lgrawa slowmo diloco; do
  grep -q "^| $m | " paper/tables.md || fail "no row for $m in tables.md"
done
pass "a row for every method"
grep -q "Least-squares slope of log(spread at the end)" paper/tables.md && grep -q "push and pull at every step" paper/tables.md &&
  grep -q "The adaptive push" paper/tables.md && pass "the push/pull law: per sync, per step, adaptive" || fail "law tables missing"
[ "$(tail -n +2 paper/runs.csv | wc -l)" = 20 ] && pass "runs.csv: 15 methods + 5 law runs" || fail "runs.csv has $(tail -n +2 paper/runs.csv | wc -l) rows"
head -1 paper/runs.csv | grep -q ',ema_test_acc,imv,' && pass "runs.csv has the EMA and flatness columns" || fail "runs.csv header"
rm paper/*.png
expect_exit 0 "gather.py --replot from runs.csv alone" -- python3 "$R/gather.py" --replot --out paper
[ -s paper/accuracy-vs-comm.png ] && [ -s paper/adaptive-spread.png ] && pass "replot drew the plots" || fail "replot drew nothing"

# gather --quick on output laid out as --quick's (its job list: tau 4 and 16,
# its law points), each run on the tiny data so that this takes a minute.
expect_exit 0 "sweep.sh --quick --tiny-data" -- bash "$R/sweep.sh" --quick --tiny-data --out sweep-quick
grep -q FAILED out && fail "a run of the quick sweep failed: $(grep FAILED out)" || pass "no run failed"
expect_exit 0 "gather.py --quick on it" -- python3 "$R/gather.py" --quick --sweep sweep-quick --out paper-quick
for f in tables.md runs.csv accuracy-vs-comm.png push-pull-law.png adaptive-spread.png landscape-dppf.png; do
  [ -s "paper-quick/$f" ] || fail "gather --quick wrote no paper-quick/$f"
done
grep -q "^| localsgd | 16 | " paper-quick/tables.md && grep -q "^| dppf | 4 | " paper-quick/tables.md &&
  pass "gather --quick: rows for both taus" || fail "gather --quick tables: $(grep '^| dppf' paper-quick/tables.md)"

expect_exit 0 "noniid.sh --tiny" -- bash "$R/noniid.sh" --tiny --out noniid-runs
grep -q FAILED out && fail "a run failed: $(grep FAILED out)" || pass "no run failed"
expect_exit 0 "noniid.py on it" -- python3 "$R/noniid.py" --tiny --runs noniid-runs --out noniid
for f in tables.md runs.csv curves.csv accuracy-vs-alpha.png accuracy-vs-time.png imv-vs-gap.png; do
  [ -s "noniid/$f" ] || fail "noniid.py wrote no $f"
done
grep -q "^| label skew | " noniid/tables.md && grep -q "Modeled wall-clock time" noniid/tables.md &&
  grep -q "^| every run with flatness | " noniid/tables.md && pass "noniid tables: skew, time, Kendall" || fail "noniid tables"
# the network model changes no number of a run: the 1 and 10 Gb/s runs agree but for the time
csv_close noniid-runs/a100-ddp-s1/metrics.csv noniid-runs/a100-bw1-ddp-s1/metrics.csv 0 1,2,3,4,5,6,7,10,11 \
  "1 and 10 Gb/s: the same training"
awk -F, 'NR==FNR { if (FNR > 1) t[FNR] = $18; next } FNR > 1 && !($18 > t[FNR]) { bad = 1 } END { exit bad }' \
  noniid-runs/a100-ddp-s1/metrics.csv noniid-runs/a100-bw1-ddp-s1/metrics.csv &&
  pass "... and 1 Gb/s takes longer" || fail "modeled_time_s at 1 Gb/s is not larger"

expect_exit 0 "flatness.sh --tiny" -- bash "$R/flatness.sh" --tiny --out flat-runs
expect_exit 0 "flatness.py on it (checks tau(20 log10 gap) = tau(gap))" -- python3 "$R/flatness.py" --tiny --runs flat-runs --out flat
for f in tables.md runs.csv kendall.csv imv-vs-gap.png hessian_trace-vs-gap.png eps_sharpness-vs-gap.png; do
  [ -s "flat/$f" ] || fail "flatness.py wrote no $f"
done
grep -q "^| IMV (random directions) | 8 | " flat/tables.md && grep -q "Psi" flat/tables.md &&
  pass "flatness: IMV's tau and Psi over the 8 models" || fail "flatness table: $(grep IMV flat/tables.md)"
# tau of each measure against the gap equals tau against 20 log10(gap) (columns 3 and 5: the same models)
awk -F, 'NR > 1 && $3 != "" && $4 != $5 { bad = 1 } END { exit bad }' flat/kendall.csv &&
  pass "kendall.csv: the log transform leaves tau unchanged" || fail "$(cat flat/kendall.csv)"

expect_exit 0 "resnet.sh --tiny" -- bash "$R/resnet.sh" --tiny --out resnet-runs
grep -q FAILED out && fail "a run failed: $(grep FAILED out)" || pass "no run failed"
expect_exit 0 "resnet.py on it" -- python3 "$R/resnet.py" --tiny --runs resnet-runs --out resnet
for f in tables.md runs.csv curves.csv accuracy-vs-rounds-t4.png accuracy-vs-rounds-new-t4.png landscape-localsgd.png \
         landscape-dppf.png; do
  [ -s "resnet/$f" ] || fail "resnet.py wrote no $f"
done
for m in ddp localsgd easgd qsr dppf lsgd mgrawa lgrawa slowmo diloco; do
  grep -q "^| $m | " resnet/tables.md || fail "no row for $m in resnet/tables.md"
done
[ "$(tail -n +2 resnet/runs.csv | wc -l)" = 10 ] && pass "resnet: a row for each of the 10 methods" || fail "resnet runs.csv"
finish
