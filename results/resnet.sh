#!/usr/bin/env bash
# Issue #20, item 2: the methods on a ResNet. ResNet-20 (He et al. 2016) on
# Fashion-MNIST padded to 32x32, every algorithm at two tau values, 3 seeds;
# accuracy against communication rounds; landscapes of localsgd and dppf on
# one colour scale.
#
#   results/resnet.sh [--quick | --tiny] [--jobs N] [--out DIR] [--seeds "1 2"]
#   then results/resnet.py [--quick | --tiny] [--runs DIR] [--out DIR]
#
# A reduced design, so that 57 runs fit in about 1.5 hours on 2 cores (an
# 8-epoch ResNet-20 run on the whole set takes ~14 min here):
# M = 4 workers, Fashion-MNIST's first 5,000 training images padded to
# 32x32 (data.resize_pad 2), no augmentation, batch 32 per worker (128 a
# step, 39 steps an epoch), 4 epochs = 156 steps, each method's own config
# (configs/<method>.yaml: lr 0.1 per worker, Nesterov 0.9, wd 5e-4, cosine,
# and the method's settings) with model.arch resnet20; evaluations every half
# epoch on the first 1,000 test images, the final averaged model on all
# 10,000 (`dppf eval`). The accuracies are therefore those of a short run
# (about 80%, not ResNet-20's ~94% after 164 epochs): the study compares the
# methods at equal steps, it does not reproduce a full training.
#   methods   ddp; localsgd, easgd, qsr, dppf, lsgd, mgrawa, lgrawa, slowmo,
#             diloco at tau 4 and 16; seeds 1, 2, 3
#   flatness  IMV, SAM sharpness and lambda_max (500 training images) of
#             ddp, localsgd and dppf
#   pictures  2-D landscapes (11x11, 1,000 training images, one --zrange) of
#             localsgd-t16-s1 and dppf-t16-s1
# --quick: seed 1, tau 16 only, 2 epochs (checks the pipeline).
# --tiny:  ResNet-8 on 1,024 synthetic 12x12 images, 2 epochs (seconds).
set -euo pipefail
source "$(dirname "$0")/runlib.sh"
parse_study_opts "$@"
study_setup resnet

model=(--set model.arch=resnet20 --set data.resize_pad=2)
data=(--set data.train_subset=5000 --set data.test_subset=1000)
sharp="--samples 500 --directions 4 --hessian-iters 10"
land=(--grid 11 --samples 1000)
case $mode in
full) epochs=4 seeds="1 2 3" taus="4 16" ;;
quick) epochs=2 seeds="1" taus="16" ;;
tiny) epochs=2 seeds="1" taus="4"
      model=(--set model.arch=resnet8)
      data=("${TINY_DATA[@]}") sharp="--samples 128 --directions 2 --hessian-iters 3" land=(--grid 5 --samples 128) ;;
esac
lt=${taus##* }   # the landscapes' tau: the larger one
SHARP_ARGS=$sharp
seeds=${seeds_opt:-$seeds}
EVAL_SET="--set data.test_subset=0"   # the final model on the whole test set

common=("${model[@]}" "${data[@]}" --set data.crop_pad=0 --set dist.workers=4 --set optim.batch_size=32
        --set optim.epochs=$epochs --set run.eval_every=0.5 --set run.threads=1 --force --quiet)

jobfile=$out/jobs.txt
: >"$jobfile"
M=mv,sam,hessian
for seed in $seeds; do
    echo "ddp ddp-s$seed $M --set run.seed=$seed" >>"$jobfile"
    for tau in $taus; do
        for m in localsgd dppf easgd qsr lsgd mgrawa lgrawa slowmo diloco; do
            measures=-
            case $m in localsgd|dppf) measures=$M ;; esac
            echo "$m $m-t$tau-s$seed $measures --set run.seed=$seed --set dist.tau=$tau" >>"$jobfile"
        done
    done
done

t0=$SECONDS
run_jobs "$jobfile"

landscape() { # dir
    [ -s "$1/landscape-2d.csv" ] && return 0
    $NICE "$DPPF" landscape "$1/checkpoint.bin" "${land[@]}" --zrange 0.05,20 --quiet >>"$1/landscape.log" 2>&1
}
first=${seeds%% *}
landscape "$out/localsgd-t$lt-s$first" &
landscape "$out/dppf-t$lt-s$first" &
wait
echo "done: landscapes of localsgd-t$lt-s$first and dppf-t$lt-s$first"
flag=""; [ $mode != full ] && flag=" --$mode"
echo "resnet: finished in $((SECONDS - t0)) s; now: results/resnet.py$flag" >&2
