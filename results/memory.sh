#!/usr/bin/env bash
# Memory of a ResNet-20 training step at batch 128, against what it must hold.
#
#   results/memory.sh [DPPF_BINARY]     (writes results/logs/memory.log)
#
# 1. `dppf bench` for ResNet-20 (batch 128, 1 thread) under /usr/bin/time -v:
#    peak RSS of the process next to the workspace, the part of it backward
#    needs (kept activations, BN statistics, argmaxes) and parameters +
#    gradients + momentum, as the bench prints them.
# 2. No growth over epochs: a ResNet-20 on synthetic 3x32x32 data trained for
#    1 and for 4 epochs reports the same peak RSS (train's summary line).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dppf=${1:-$root/build/dppf}
log=$root/results/logs/memory.log
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
    echo "# results/memory.sh, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo '$ /usr/bin/time -v dppf bench --models resnet20 --threads 1 --steps 5 --warmup 1 --no-gemm'
    /usr/bin/time -v "$dppf" bench --models resnet20 --threads 1 --steps 5 --warmup 1 --no-gemm 2>"$work/time"
    grep -E "Maximum resident" "$work/time"
    echo "{}" >"$work/base.yaml"
    for ep in 1 4; do
        echo "\$ dppf train (resnet20, synthetic 3x32x32, 1024 images, batch 128, $ep epochs)"
        "$dppf" train "$work/base.yaml" --quiet --force --set data.dataset=synthetic --set data.shape=[3,32,32] \
            --set data.train_size=1024 --set data.test_size=256 --set model.arch=resnet20 \
            --set optim.batch_size=128 --set optim.epochs=$ep --set run.threads=1 \
            --set run.out_dir="$work/run$ep" | grep -E "memory|run  "
    done
} | tee "$log"
