#!/usr/bin/env bash
# How long a 21x21 loss landscape and the IMV sharpness take on the quickstart CNN.
#
#   results/landscape_time.sh     (writes results/logs/landscape-quickstart.log)
#
# Trains configs/quickstart.yaml into runs/quickstart when it has no checkpoint
# yet, then times on 10,000 training samples: `dppf landscape` (21 x 21 grid)
# in one process (2 threads) and on 2 ranks, and `dppf sharpness --measures mv`
# (10 directions). The log ends with the compute bound: forward FLOPs of the
# grid against the GEMM peak `dppf bench` measures on one core.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dppf=${DPPF:-$root/build/dppf}
ckpt=$root/runs/quickstart/checkpoint.bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
[ -f "$ckpt" ] || "$dppf" train "$root/configs/quickstart.yaml" --quiet --force >/dev/null
timed() { # label, then the command: its output, then the wall time
    local label=$1; shift
    echo "\$ $*"
    local t0 t1
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    printf '%s: %.1f s wall\n\n' "$label" "$(echo "$t1 $t0" | awk '{print $1 - $2}')"
}
{
    echo "# results/landscape_time.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), load: $(cut -d' ' -f1 /proc/loadavg)"
    echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
    echo
    timed "landscape, 1 process" "$dppf" landscape "$ckpt" --grid 21 --samples 10000 --out "$work/a" --quiet
    timed "landscape, 2 ranks" "${mpi[@]}" "$dppf" landscape "$ckpt" --grid 21 --samples 10000 --out "$work/b" --quiet
    timed "sharpness mv (10 directions)" "$dppf" sharpness "$ckpt" --samples 10000 --measures mv --directions 10
    echo "# the compute bound: GEMM peak of one core (dppf bench, 1 thread)"
    "$dppf" bench --models cnn --threads 1 --steps 3 --warmup 1 --csv | tail -1 |
        awk -F, '{print "peak GFLOP/s per core: " $9}'
} 2>&1 | tee "$root/results/logs/landscape-quickstart.log"
