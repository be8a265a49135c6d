#!/usr/bin/env bash
# Two cores, M = 4 LocalSGD workers: 1 rank x 2 threads or 2 ranks x 1 thread?
#
#   results/layout.sh [STEPS]     (default 60; writes results/logs/layout.log)
#
# Trains configs/localsgd.yaml (quickstart CNN) and the same with ResNet-20 on
# synthetic 3x32x32 images for STEPS steps in both layouts and prints the
# training samples/s from each run's summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dppf=${DPPF:-$root/build/dppf}
steps=${1:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
run() { # label, then the command; prints the summary's time line
    local label=$1; shift
    printf '%-40s ' "$label"
    "$@" | grep -E '^  time' | sed 's/^  time *//'
}
{
    echo "# results/layout.sh $steps, $(date -u '+%Y-%m-%d %H:%M UTC'), load: $(cut -d' ' -f1 /proc/loadavg)"
    for model in cnn resnet20; do
        extra=(--set optim.max_steps="$steps" --set run.eval_every=100 --quiet --force)
        [ $model = resnet20 ] && extra+=(--set data.dataset=synthetic --set data.shape=[3,32,32]
            --set data.train_size=8192 --set data.test_size=256 --set model.arch=resnet20)
        run "$model, 1 rank x 2 threads" "$dppf" train "$root/configs/localsgd.yaml" "${extra[@]}" \
            --set run.threads=2 --set run.out_dir="$work/a"
        run "$model, 2 ranks x 1 thread" "${mpi[@]}" "$dppf" train "$root/configs/localsgd.yaml" "${extra[@]}" \
            --set run.threads=1 --set run.out_dir="$work/b"
        run "$model, 1 rank x 1 thread" "$dppf" train "$root/configs/localsgd.yaml" "${extra[@]}" \
            --set run.threads=1 --set run.out_dir="$work/c"
    done
} | tee "$root/results/logs/layout.log"
