#!/usr/bin/env bash
# Issue #17: beyond the paper's setting. DPPF against LocalSGD, DDP and SlowMo
# when the workers' data is not IID, when syncs are dropped, and against a
# modeled wall-clock time on a network.
#
#   results/noniid.sh [--quick | --tiny] [--jobs N] [--out DIR] [--seeds "1 2"]
#   then results/noniid.py [--quick | --tiny] [--runs DIR] [--out DIR]
#
# Every run: M = 16 logical workers in one process, the quickstart CNN,
# Fashion-MNIST's first 10,000 training images, no augmentation, batch 32 per
# worker (512 a step, 19 steps an epoch), lr 0.1 per worker, Nesterov 0.9, wd
# 5e-4, cosine, 8 epochs; tau 8 for the local methods (localsgd; dppf pull
# 0.5 push 0.05; slowmo outer lr 1, outer momentum 0.7); evaluations every
# epoch on the first 1,000 test images (the final model is then evaluated on
# all 10,000 by `dppf eval`); modeled time: alpha-beta ring allreduce, 10 us
# latency, a fixed 10 ms compute step (net.step_time_s), 10 Gb/s unless said.
#   label skew   data.partition dirichlet, alpha in {100 (~IID), 1, 0.1},
#                seeds 1, 2 (the seed draws the partition too)
#   dropped      alpha 1, dist.drop_prob in {0.1, 0.3}, the first seed
#   network      alpha 100 at 1 Gb/s too, the first seed (the 10 Gb/s runs are
#                the label-skew ones): accuracy against modeled time
# Flatness (IMV, SAM, lambda_max on 1,000 training images) of every run but
# the 1 Gb/s copies (the network model changes no number of a run).
# --quick: 3 epochs, seed 1, drop 0.3 only.
# --tiny:  synthetic data, batch 8, 2 epochs, alpha {100, 0.1} (seconds).
set -euo pipefail
source "$(dirname "$0")/runlib.sh"
parse_study_opts "$@"
study_setup noniid

data=(--set data.train_subset=10000 --set data.test_subset=1000)
batch=32 sharp="--samples 1000 --directions 4 --hessian-iters 20"
case $mode in
full) epochs=8 eval_every=1 seeds="1 2" alphas="100 1 0.1" drops="0.1 0.3" ;;
quick) epochs=3 eval_every=1 seeds="1" alphas="100 1 0.1" drops="0.3" ;;
tiny) epochs=2 eval_every=1 seeds="1" alphas="100 0.1" drops="0.3" batch=8
      data=("${TINY_DATA[@]}") sharp="--samples 128 --directions 2 --hessian-iters 3" ;;
esac
SHARP_ARGS=$sharp
seeds=${seeds_opt:-$seeds}
EVAL_SET="--set data.test_subset=0"   # the final model on the whole test set

common=("${data[@]}" --set data.crop_pad=0 --set data.partition=dirichlet --set dist.workers=16
        --set optim.batch_size=$batch --set optim.epochs=$epochs --set run.eval_every=$eval_every
        --set net.model=alpha_beta --set net.step_time_s=0.01 --set net.latency_us=10
        --set run.threads=1 --force --quiet)

jobfile=$out/jobs.txt
: >"$jobfile"
M=mv,sam,hessian
methods="ddp localsgd dppf slowmo"
tau() { [ "$1" = ddp ] || echo "--set dist.tau=8"; }
first=${seeds%% *}
for seed in $seeds; do
    for a in $alphas; do
        for m in $methods; do
            echo "$m a$a-$m-s$seed $M --set run.seed=$seed --set data.dirichlet_alpha=$a $(tau $m) --set net.bandwidth_gbps=10" >>"$jobfile"
        done
    done
    [ "$seed" = "$first" ] || continue
    for p in $drops; do
        for m in $methods; do
            echo "$m a1-drop$p-$m-s$seed $M --set run.seed=$seed --set data.dirichlet_alpha=1 $(tau $m) --set dist.drop_prob=$p --set net.bandwidth_gbps=10" >>"$jobfile"
        done
    done
    for m in $methods; do
        echo "$m a100-bw1-$m-s$seed - --set run.seed=$seed --set data.dirichlet_alpha=100 $(tau $m) --set net.bandwidth_gbps=1" >>"$jobfile"
    done
done

t0=$SECONDS
run_jobs "$jobfile"
flag=""; [ $mode != full ] && flag=" --$mode"
echo "noniid: finished in $((SECONDS - t0)) s; now: results/noniid.py$flag" >&2
