#!/usr/bin/env bash
# Issue #20 item 1: flatness measures against the generalisation gap with the
# DPPF authors' protocol (their earlier GRAWA code's flatness study, after
# Jiang et al. 2019): a grid of models over batch size, learning rate,
# momentum, width and weight decay, no augmentation; every flatness measure of
# `dppf sharpness` on each final averaged model; Kendall's tau of each with the
# gap and Jiang et al.'s granulated Kendall Psi (results/flatness.py).
#
#   results/flatness.sh [--quick | --tiny] [--jobs N] [--out DIR]
#   then results/flatness.py [--quick | --tiny] [--runs DIR] [--out DIR]
#
# The grid (full factorial, 2 values an axis; see results/README.md for why):
#   batch size per worker  {32, 128}       (theirs: {32, 128, 512})
#   lr per worker          {0.05, 0.1}     (theirs: {0.05, 0.075, 0.1})
#   momentum (Nesterov)    {0.5, 0.9}      (theirs: {0.1, 0.5, 0.9})
#   width (model.widths)   {[8,16], [16,32]} conv channels, fc 128
#   weight decay           {0, 5e-4}       (theirs: {0, 1e-4, 1e-2}, kept < 0.01)
#   method                 localsgd, dppf (pull 0.5, push 0.05), tau 8, M = 4
# = 64 runs; seed 1; Fashion-MNIST's first 10,000 training images, full test
# set, cosine schedule with 0.5 warm-up epochs, 8 epochs, no augmentation.
# Measures on the first 1,000 training images, BN in eval mode: MV / IMV (4
# filter-normalised random directions, and the workers' directions), SAM
# sharpness (rho 0.05), lambda_max (20 power iterations), Hessian trace (3
# Hutchinson samples, as their 3 draws), epsilon-sharpness (1e-3).
# --quick: batch x lr x width (momentum 0.9, wd 5e-4), 3 epochs: 16 runs.
# --tiny:  batch x lr on synthetic data, 2 epochs: 8 runs (seconds).
set -euo pipefail
source "$(dirname "$0")/runlib.sh"
parse_study_opts "$@"
study_setup flatness

data=(--set data.train_subset=10000)
sharp="--samples 1000 --directions 4 --hessian-iters 20 --trace-samples 3"
batches="32 128" lrs="0.05 0.1" moms="0.5 0.9" widths="8 16" wds="0 0.0005"
case $mode in
full) epochs=8 ;;
quick) epochs=3 moms="0.9" wds="0.0005" ;;
tiny) epochs=2 moms="0.9" wds="0.0005" widths="8"
      data=("${TINY_DATA[@]}") sharp="--samples 128 --directions 2 --hessian-iters 3 --trace-samples 2" ;;
esac
SHARP_ARGS=$sharp EVAL_SET=""

common=("${data[@]}" --set data.crop_pad=0 --set dist.tau=8 --set optim.epochs=$epochs
        --set run.eval_every=$epochs --set run.seed=1 --set run.threads=1 --force --quiet)

jobfile=$out/jobs.txt
: >"$jobfile"
for m in localsgd dppf; do
    for b in $batches; do for lr in $lrs; do for mo in $moms; do for w in $widths; do for wd in $wds; do
        echo "$m $m-b$b-lr$lr-m$mo-w$w-wd$wd mv,sam,hessian,trace,eps --set optim.batch_size=$b --set optim.lr=$lr" \
             "--set optim.momentum=$mo --set model.widths=[$w,$((2 * w))] --set optim.weight_decay=$wd" >>"$jobfile"
    done; done; done; done; done
done

t0=$SECONDS
run_jobs "$jobfile"
flag=""; [ $mode != full ] && flag=" --$mode"
echo "flatness: finished in $((SECONDS - t0)) s; now: results/flatness.py$flag" >&2
