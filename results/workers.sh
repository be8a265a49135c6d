#!/usr/bin/env bash
# Many logical workers in one process: does M = 16 train as fast as M = 1?
#
#   results/workers.sh [SAMPLES] [REPEAT]   (defaults 61440, 3; writes results/logs/workers.log)
#
# Trains configs/localsgd.yaml (quickstart CNN, batch 128 per worker, tau 4) in
# one process with M = 1, 4 and 16 workers on 1 and 2 threads, each run seeing
# the same SAMPLES training samples (SAMPLES / (128 M) steps), no evaluation,
# and prints the median training samples/s of REPEAT runs and its ratio to M = 1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dppf=${DPPF:-$root/build/dppf}
samples=${1:-61440}
repeat=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rate() { # M threads -> training samples/s of one run
    local steps=$((samples / (128 * $1)))
    "$dppf" train "$root/configs/localsgd.yaml" --quiet --force \
        --set dist.workers="$1" --set run.threads="$2" --set run.adapt_threads=false \
        --set optim.max_steps="$steps" --set run.eval_every=1000 --set run.out_dir="$work/r" |
        sed -n 's/^  time .*, \([0-9]*\) samples\/s$/\1/p'
}
median() { tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
{
    echo "# results/workers.sh $samples $repeat, $(date -u '+%Y-%m-%d %H:%M UTC'), load: $(cut -d' ' -f1 /proc/loadavg)"
    echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
    printf '%-8s %-8s %-30s %s\n' threads workers "samples/s (median; runs)" "vs M = 1"
    for threads in 1 2; do
        base=
        for m in 1 4 16; do
            runs=$(for _ in $(seq "$repeat"); do rate "$m" "$threads"; done | tr '\n' ' ')
            med=$(echo "$runs" | xargs | median)
            [ -z "$base" ] && base=$med
            printf '%-8s %-8s %-30s %.2fx\n' "$threads" "$m" "$med ($(echo $runs | xargs))" \
                "$(echo "$med $base" | awk '{print $1 / $2}')"
        done
    done
} | tee "$root/results/logs/workers.log"
