#!/usr/bin/env bash
# Is a build faster or slower than another on this machine? Runs `dppf bench`
# with each binary in turn, ROUNDS times alternating (so a neighbour's burst
# hits both alike), and prints the median train and eval img/s of each model
# and thread count side by side with the ratio new/old.
#
#   bench/ab.sh OLD_DPPF NEW_DPPF [ROUNDS]        e.g. the previous commit's build
#   AB_MODELS=resnet20,cnn AB_THREADS=1,2 AB_STEPS=10 (the defaults)
#
# Run it on an idle machine: the load average is printed first and last.
set -euo pipefail
old=$1 new=$2 rounds=${3:-3}
models=${AB_MODELS:-resnet20,cnn} threads=${AB_THREADS:-1,2} steps=${AB_STEPS:-10}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
echo "# bench/ab.sh $old $new $rounds ($(date -u '+%F %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  for which in old new; do
    bin=$old; [ "$which" = new ] && bin=$new
    "$bin" bench --models "$models" --threads "$threads" --steps "$steps" --no-gemm --csv 2>/dev/null |
      tail -n +2 | sed "s/^/$which,/" >> "$tmp"
  done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$tmp" <<'EOF'
import collections, csv, statistics, sys
runs = collections.defaultdict(list)
for row in csv.reader(open(sys.argv[1])):
    which, model, threads = row[0], row[1], row[2]
    runs[(model, threads, which)].append((float(row[4]), float(row[5])))
print(f"{'model':10} {'threads':>7} {'train old':>10} {'train new':>10} {'new/old':>7} {'eval old':>10} {'eval new':>10} {'new/old':>7}")
for model, threads in sorted({(m, t) for m, t, _ in runs}):
    o = [statistics.median(x[i] for x in runs[(model, threads, 'old')]) for i in (0, 1)]
    n = [statistics.median(x[i] for x in runs[(model, threads, 'new')]) for i in (0, 1)]
    print(f"{model:10} {threads:>7} {o[0]:10.1f} {n[0]:10.1f} {n[0]/o[0]:7.2f} {o[1]:10.1f} {n[1]:10.1f} {n[1]/o[1]:7.2f}")
EOF
