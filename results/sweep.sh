#!/usr/bin/env bash
# The paper's claims on Fashion-MNIST, as a batch sweep a user would write:
# one config per method (configs/*.yaml) and --set overrides.
#
#   results/sweep.sh [--quick] [--jobs N]     then   results/gather.py [--quick]
#
# Trains every run (2 at a time by default, one BLIS thread each), then for
# each final model `dppf eval --csv` (train/test loss and accuracy of the
# workers' average) and `dppf sharpness --csv` (IMV, SAM, lambda_max), then
# the 2-D landscapes of LocalSGD and DPPF on one colour scale. Outputs go to
# runs/sweep[-quick]/<run>/; results/gather.py turns them into results/paper/.
#
# The study (see results/README.md for why these choices):
#   data     Fashion-MNIST, first 10,000 training images (so the CNN overfits:
#            a visible generalisation gap), the full 10,000 test images, no
#            augmentation
#   model    the quickstart CNN (conv 16, conv 32, fc 128; 207k parameters)
#   optim    SGD lr 0.1 per worker, Nesterov 0.9, wd 5e-4, cosine, batch 64
#            per worker, 16 epochs
#   methods  ddp; localsgd, easgd, qsr and dppf at tau in {4, 16, 64};
#            M = 4 workers; seeds 1, 2, 3
#   law      dppf, tau 4, seed 1: push in {0.02, 0.05, 0.2} x pull in
#            {0.25, 0.5, 1}: worker spread against push/pull
# --quick: 4 epochs, tau in {4, 16}, seed 1, push/pull on 3 points (~10 min).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
DPPF=${DPPF:-$root/build/dppf}
quick=0
jobs=2
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --jobs) jobs=$2; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "sweep.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[ -x "$DPPF" ] || { echo "sweep.sh: no dppf binary at $DPPF (build first: scripts/build.sh)" >&2; exit 2; }

if [ $quick = 1 ]; then
    out=runs/sweep-quick; epochs=4; taus="4 16"; seeds="1"
    law="0.05:0.5 0.05:1 0.2:0.5"
else
    out=runs/sweep; epochs=16; taus="4 16 64"; seeds="1 2 3"
    law=""
    for push in 0.02 0.05 0.2; do for pull in 0.25 0.5 1; do law="$law $push:$pull"; done; done
fi
cd "$root"
mkdir -p "$out"

# The shared overrides: what makes this a study rather than the quickstart.
common=(--set data.train_subset=10000 --set data.crop_pad=0 --set optim.batch_size=64
        --set optim.epochs=$epochs --set run.eval_every=4 --set run.threads=1 --force --quiet)

# Order: every method for seed 1, then the push/pull grid, then the other
# seeds, so an interrupted sweep still has every study in it.
jobfile=$out/jobs.txt
: >"$jobfile"
add_seed() {
    local seed=$1
    echo "ddp ddp-s$seed --set run.seed=$seed" >>"$jobfile"
    for tau in $taus; do
        for m in localsgd easgd qsr dppf; do
            echo "$m $m-t$tau-s$seed --set run.seed=$seed --set dist.tau=$tau" >>"$jobfile"
        done
    done
}
first=${seeds%% *}
add_seed "$first"
for pp in $law; do
    push=${pp%%:*} pull=${pp##*:}
    echo "dppf law-push$push-pull$pull --set run.seed=1 --set dist.tau=4 --set dist.push=$push --set dist.pull=$pull" >>"$jobfile"
done
for seed in $seeds; do [ "$seed" = "$first" ] || add_seed "$seed"; done

# One run: train, evaluate, measure flatness. Skips runs already complete,
# so an interrupted sweep continues where it stopped.
one() {
    local method=$1 name=$2; shift 2
    local dir=$out/$name
    if [ -s "$dir/eval.csv" ] && { [[ $name == law-* ]] || [ -s "$dir/sharpness.csv" ]; }; then return 0; fi
    local t0=$SECONDS
    "$DPPF" train "configs/$method.yaml" "${common[@]}" --set run.out_dir="$dir" "$@" >"$dir.train.log" 2>&1 ||
        { echo "FAILED: $name (see $dir.train.log)" >&2; return 1; }
    mv "$dir.train.log" "$dir/train.log"
    "$DPPF" eval --checkpoint "$dir/checkpoint.bin" --csv >"$dir/eval.csv.tmp" && mv "$dir/eval.csv.tmp" "$dir/eval.csv"
    if [[ $name != law-* ]]; then
        "$DPPF" sharpness "$dir/checkpoint.bin" --samples 1000 --directions 4 --measures mv,sam,hessian \
            --hessian-iters 20 --csv >"$dir/sharpness.csv.tmp" && mv "$dir/sharpness.csv.tmp" "$dir/sharpness.csv"
    fi
    echo "done: $name ($((SECONDS - t0)) s)"
}
export -f one
export DPPF out
export common_str="${common[*]}"

t0=$SECONDS
echo "sweep: $(wc -l <"$jobfile") runs in $out, $jobs at a time" >&2
# xargs runs `one` in fresh shells: rebuild the common array from its string.
xargs -P "$jobs" -L 1 bash -c 'read -ra common <<<"$common_str"; one "$@"' _ <"$jobfile"

# Landscapes of the final LocalSGD and DPPF models (tau 16, seed 1; tau 4 in
# --quick), split over 2 ranks: Li et al.'s random plane on one colour scale
# for both, and for DPPF the workers' plane (through the average and workers
# 0 and 1), the valley its workers span. LocalSGD has none: its last step is a
# sync, so its final workers coincide.
lt=16; [ $quick = 1 ] && lt=4
mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
for m in localsgd dppf; do
    dir=$out/$m-t$lt-s1
    if [ ! -s "$dir/landscape-2d.csv" ]; then
        "${mpi[@]}" "$DPPF" landscape "$dir/checkpoint.bin" --grid 21 --samples 2000 --zrange 0.01,20 --quiet \
            >"$dir/landscape.log"
    fi
    if [ $m = dppf ] && [ ! -s "$dir/plane-workers/landscape-2d.csv" ]; then
        "${mpi[@]}" "$DPPF" landscape "$dir/checkpoint.bin" --plane workers --grid 21 --samples 2000 \
            --out "$dir/plane-workers" --quiet >>"$dir/landscape.log"
    fi
    echo "done: landscapes of $m-t$lt-s1"
done
echo "sweep: finished in $((SECONDS - t0)) s; now: results/gather.py$([ $quick = 1 ] && echo ' --quick')" >&2
