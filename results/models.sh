#!/usr/bin/env bash
# ResNet-18 and a small PyramidNet on Fashion-MNIST padded to 32x32, with the
# paper configs (configs/paper/{resnet18,pyramidnet20}-fmnist32-dppf.yaml: DPPF,
# M = 4 workers), cut to what 2 shared cores do in about 20 minutes.
#
#   results/models.sh [DPPF_BINARY]     (writes results/logs/models.log)
#
# 1. Time per epoch of the full training set at the configs' batch 128 per
#    worker: 4 steps of each model (2048 images), full epoch = 60000 / (images/s).
# 2. A short run of each: a random subset of the training set, 3 epochs with the
#    cosine schedule, batch 32 per worker (so that a short run still takes
#    enough steps), evaluated on 2000 random test images each epoch.
# The machine's load is logged: other jobs share the 2 cores, so the times
# are upper bounds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dppf=${1:-$root/build/dppf}
log=$root/results/logs/models.log
out=${MODELS_OUT:-$root/runs/models}
mkdir -p "$out"
common=(--force --set data.subset=random --set data.test_subset=2000)
runs=(
    "resnet18 resnet18-fmnist32-dppf 3072"
    "pyramidnet20 pyramidnet20-fmnist32-dppf 8192"
)
{
    echo "# results/models.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
    for r in "${runs[@]}"; do
        set -- $r
        name=$1 cfg=$root/configs/paper/$2.yaml
        echo "\$ dppf train configs/paper/$2.yaml --set optim.max_steps=4 (timing, batch 128 per worker)"
        "$dppf" train "$cfg" "${common[@]}" --set data.test_subset=128 --set optim.max_steps=4 \
            --set run.out_dir="$out/$name-timing" --quiet
        awk -F, 'NR > 1 { s = $8 } END { printf "  %s images/s at batch 128 x 4 workers: full epoch (60000 images) %.0f s\n", s, 60000 / s }' \
            "$out/$name-timing/metrics.csv"
        echo "  load: $(cut -d' ' -f1-3 /proc/loadavg)"
    done
    for r in "${runs[@]}"; do
        set -- $r
        name=$1 cfg=$root/configs/paper/$2.yaml n=$3
        echo "\$ dppf train configs/paper/$2.yaml --set data.train_subset=$n --set optim.epochs=3 --set optim.schedule=cosine --set optim.batch_size=32 ..."
        /usr/bin/time -f "  %e s wall, peak RSS %M KiB" "$dppf" train "$cfg" "${common[@]}" \
            --set data.train_subset="$n" --set optim.epochs=3 --set optim.schedule=cosine \
            --set optim.batch_size=32 --set run.eval_every=1 --set run.checkpoint_every=0 \
            --set run.out_dir="$out/$name" 2>&1
        echo "  load: $(cut -d' ' -f1-3 /proc/loadavg)"
    done
} | tee "$log"
