#!/usr/bin/env bash
# The paper's claims on Fashion-MNIST, as a batch sweep a user would write:
# one config per method (configs/*.yaml) and --set overrides.
#
#   results/sweep.sh [--quick | --tiny] [--jobs N] [--out DIR] [--seeds "1 2 3"]
#   then results/gather.py [--quick | --tiny] [--sweep DIR] [--out DIR]
#
# Trains every run ($jobs at a time, one thread each, under nice -n 19), then
# for each final model `dppf eval --csv` (train/test loss and accuracy of the
# workers' average) and `dppf sharpness --csv` (IMV, SAM, lambda_max), then
# the 2-D landscapes of LocalSGD and DPPF on one colour scale. Outputs go to
# runs/sweep[-quick|-tiny]/<run>/; results/gather.py turns them into
# results/paper[-quick]/.
#
# The study (see results/README.md for why these choices):
#   data     Fashion-MNIST, first 10,000 training images (so the CNN overfits:
#            a visible generalisation gap), the full 10,000 test images, no
#            augmentation
#   model    the quickstart CNN (conv 16, conv 32, fc 128; 207k parameters)
#   optim    SGD lr 0.1 per worker, Nesterov 0.9, wd 5e-4, cosine, batch 64
#            per worker, 16 epochs, evaluated at the end; EMA of the averaged
#            model (decay 0.99 a step) evaluated beside it (no effect on the run)
#   methods  M = 4 workers, seeds 1, 2, 3 (sized for a shared 2-core machine):
#            ddp, and ddp with SAM (rho 0.05);
#            localsgd, easgd, qsr, dppf at tau in {4, 16} (the first study
#            also had 64, where every local method tied);
#            lsgd, mgrawa, lgrawa, slowmo, diloco, dppf-step (push and pull
#            every step), dppf-adaptive (target_spread 0.1) at tau 4;
#            localsgd and dppf with SAM (rho 0.05) at tau 4
#   law      dppf, tau 4, seed 1, evaluated every 8 epochs: worker spread vs
#            push/pull for the per-sync and per-step forms at (push, pull) in
#            {(0.02, 0.5), (0.05, 0.25), (0.05, 0.5), (0.05, 1), (0.2, 0.5)};
#            the adaptive push, target_spread in {0.05, 0.3, 1.0}, every 2 epochs
# --quick: 4 epochs, seed 1, tau in {4, 16} (new methods and SAM: 4), fewer
#          law points.
# --tiny:  the same job list shape on 1,024 synthetic 12x12 images, 2 epochs
#          of 4 steps: checks that every script and gather step runs (seconds).
# --quick --tiny-data: quick's job list on --tiny's data (tests/cli_results.sh
#          runs gather.py --quick on it).
set -euo pipefail
source "$(dirname "$0")/runlib.sh"
parse_study_opts "$@"
study_setup sweep

data=(--set data.train_subset=10000)
sharp="--samples 1000 --directions 4 --hessian-iters 20"
land=(--grid 21 --samples 2000)
case $mode in
full)
    epochs=16 law_every=8 adapt_every=2 seeds="1 2 3"
    taus="4 16" taus_new="4" taus_sam="4"
    law_sync="0.02:0.5 0.05:0.25 0.05:0.5 0.05:1 0.2:0.5" law_step=$law_sync
    targets="0.05 0.3 1.0" lt=16 ;;
quick)
    epochs=4 law_every=2 adapt_every=1 seeds="1"
    taus="4 16" taus_new="4" taus_sam="4"
    law_sync="0.05:0.5 0.05:1 0.2:0.5" law_step="0.05:0.5 0.2:0.5" targets="0.05 1.0" lt=4 ;;
tiny)
    epochs=2 law_every=1 adapt_every=1 seeds="1"
    taus="4" taus_new="4" taus_sam="4"
    law_sync="0.05:0.5 0.2:0.5" law_step="0.05:0.5 0.2:0.5" targets="0.1" lt=4
    data=("${TINY_DATA[@]}") sharp="--samples 128 --directions 2 --hessian-iters 3" land=(--grid 5 --samples 128) ;;
esac
if [ "$tiny_data" = 1 ]; then # this mode's job list on --tiny's data (tests/cli_results.sh)
    epochs=2 law_every=1 adapt_every=1 data=("${TINY_DATA[@]}")
    sharp="--samples 128 --directions 2 --hessian-iters 3" land=(--grid 5 --samples 128)
fi
SHARP_ARGS=$sharp EVAL_SET=""
seeds=${seeds_opt:-$seeds}

# The shared overrides: what makes this a study rather than the quickstart.
common=("${data[@]}" --set data.crop_pad=0 --set optim.batch_size=64 --set optim.epochs=$epochs
        --set run.eval_every=$epochs --set run.ema_decay=0.99 --set run.threads=1 --force --quiet)

# Jobs: CONFIG NAME MEASURES [--set ...]. Order: every method for the first
# seed, then the push/pull law, then the other seeds, so an interrupted sweep
# still has every study in it.
jobfile=$out/jobs.txt
: >"$jobfile"
M=mv,sam,hessian
SAM="--set optim.sam_rho=0.05"
add_seed() {
    local s=$1 tau m
    echo "ddp ddp-s$s $M --set run.seed=$s" >>"$jobfile"
    echo "ddp ddp-sam-s$s $M --set run.seed=$s $SAM" >>"$jobfile"
    for tau in $taus; do
        for m in localsgd easgd qsr dppf; do
            echo "$m $m-t$tau-s$s $M --set run.seed=$s --set dist.tau=$tau" >>"$jobfile"
        done
    done
    for tau in $taus_new; do
        for m in lsgd mgrawa lgrawa slowmo diloco dppf-step dppf-adaptive; do
            echo "$m $m-t$tau-s$s $M --set run.seed=$s --set dist.tau=$tau" >>"$jobfile"
        done
    done
    for tau in $taus_sam; do
        for m in localsgd dppf; do
            echo "$m $m-sam-t$tau-s$s $M --set run.seed=$s --set dist.tau=$tau $SAM" >>"$jobfile"
        done
    done
}
first=${seeds%% *}
add_seed "$first"
for pp in $law_sync; do
    push=${pp%%:*} pull=${pp##*:}
    echo "dppf law-push$push-pull$pull - --set run.seed=1 --set dist.tau=4 --set dist.push=$push --set dist.pull=$pull --set run.eval_every=$law_every" >>"$jobfile"
done
for pp in $law_step; do
    push=${pp%%:*} pull=${pp##*:}
    echo "dppf-step law-step-push$push-pull$pull - --set run.seed=1 --set dist.tau=4 --set dist.push=$push --set dist.pull=$pull --set run.eval_every=$law_every" >>"$jobfile"
done
for t in $targets; do
    echo "dppf-adaptive law-adapt-target$t - --set run.seed=1 --set dist.tau=4 --set dist.target_spread=$t --set run.eval_every=$adapt_every" >>"$jobfile"
done
for seed in $seeds; do [ "$seed" = "$first" ] || add_seed "$seed"; done

t0=$SECONDS
run_jobs "$jobfile"

# Landscapes of the final LocalSGD and DPPF models (tau 16, seed 1; tau 4 in
# --quick): Li et al.'s random plane on one colour scale for both, and for
# DPPF the workers' plane (through the average and workers 0 and 1), the
# valley its workers span. LocalSGD has none: its last step is a sync, so its
# final workers coincide. Two processes at a time, like the runs.
landscape() { # dir, then options
    local dir=$1; shift
    [ -s "${dir}/${LOUT:-.}/landscape-2d.csv" ] && return 0
    $NICE "$DPPF" landscape "$dir/checkpoint.bin" "${land[@]}" --quiet "$@" >>"$dir/landscape.log" 2>&1
}
L=$out/localsgd-t$lt-s1 D=$out/dppf-t$lt-s1
landscape "$L" --zrange 0.01,20 &
landscape "$D" --zrange 0.01,20 &
wait
LOUT=plane-workers landscape "$D" --plane workers --out "$D/plane-workers"
echo "done: landscapes of localsgd-t$lt-s1 and dppf-t$lt-s1"
flag=""; [ $mode != full ] && flag=" --$mode"
echo "sweep: finished in $((SECONDS - t0)) s; now: results/gather.py$flag" >&2
