#!/usr/bin/env bash
# Peak memory of a training step of the large models at batch 128 per worker.
#
#   results/memory_models.sh [DPPF_BINARY]     (writes results/logs/memory_models.log)
#
# Each row: `dppf train` for 2 steps on synthetic 3x32x32 data (1024 training,
# 128 test images: 3.5 MB of data) under /usr/bin/time -v; the peak
# RSS, and train's summary line (the workspace). What backward keeps
# (net_kept_bytes, checked against a count by hand in tests/test_net.c) and
# parameters x workers x 4 buffers (parameters, gradients, momentum, and the
# algorithm's copy) are the README's arithmetic next to it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dppf=${1:-$root/build/dppf}
log=$root/results/logs/memory_models.log
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "{}" >"$work/base.yaml"
rows=(
    "resnet18 1 --set model.arch=resnet18"
    "resnet18 4 --set model.arch=resnet18 --set dist.algorithm=dppf --set dist.tau=4 --set dist.push=0.05 --set dist.pull=0.5"
    "wrn28-10 1 --set model.arch=wrn --set model.depth=28 --set model.widen=10"
    "wrn28-10-dropout 1 --set model.arch=wrn --set model.depth=28 --set model.widen=10 --set model.block_dropout=0.3"
)
{
    echo "# results/memory_models.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs"
    for row in "${rows[@]}"; do
        set -- $row
        name=$1 workers=$2
        shift 2
        echo "\$ /usr/bin/time -v dppf train (${name}, ${workers} worker(s), synthetic 3x32x32, batch 128, optim.max_steps=2)"
        /usr/bin/time -v "$dppf" train "$work/base.yaml" --force --set data.dataset=synthetic \
            --set data.shape=[3,32,32] --set data.train_size=1024 --set data.test_size=128 \
            --set optim.batch_size=128 --set optim.max_steps=2 --set dist.workers="$workers" \
            --set run.out_dir="$work/$name-$workers" "$@" 2>"$work/time" | grep -E "model |memory|run  " || true
        grep -E "Maximum resident|Elapsed" "$work/time"
    done
} | tee "$log"
