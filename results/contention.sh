#!/usr/bin/env bash
# Graceful under contention: is `dppf bench --threads 2` at least as fast as
# `--threads 1` when another CPU-bound process competes for the 2 cores?
#
#   results/contention.sh [DPPF [OLD_DPPF]]     (writes results/logs/contention.log)
#
# For each binary (OLD_DPPF: a build to compare with, e.g. the previous
# commit's), with no competing process and then with one (a python3 busy
# loop), runs `dppf bench --models MODEL --threads 1`, `--threads 2` and
# `--threads 2 --adapt` CONTENTION_REPEAT times (default 5, alternating) and
# prints the median train and eval img/s; then times whole `dppf train` runs
# of ResNet-20 (CONTENTION_TRAIN_STEPS steps, default 60; 0 skips) with 1
# thread, 2 pinned and 2 governed (run.adapt_threads, the default). Other
# knobs: CONTENTION_MODELS (default resnet20,cnn), CONTENTION_STEPS (default
# 10). The machine's load average is printed with each block: other jobs on
# the machine count as contention too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dppf=${1:-$root/build/dppf}
old=${2:-}
repeat=${CONTENTION_REPEAT:-5}
steps=${CONTENTION_STEPS:-10}
models=${CONTENTION_MODELS:-resnet20,cnn}
train_steps=${CONTENTION_TRAIN_STEPS:-60}
log=$root/results/logs/contention.log
busy=
tmp=$(mktemp -d)
trap '[ -n "$busy" ] && kill "$busy" 2>/dev/null; rm -rf "$tmp"; true' EXIT

median() { sort -g | awk '{v[NR]=$1} END {print NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
med() { tr ' ' '\n' <<<"$1" | grep . | median; }    # of a space-separated list
ratio() { [ "$1" = - ] && echo - || awk "BEGIN{printf \"%.2f\", $1/$2}"; }
label() { basename "$(dirname "$(dirname "$(readlink -f "$1")")")"; }   # the build's checkout

# bin model load: one line with the medians of 1 thread, 2 threads, and up to
# 2 threads chosen by the governor (--adapt: the thread count of each step,
# as `dppf train` runs by default; 8 warm-up steps stand for the start of a
# run, in which the governor makes its first probes). A binary without
# --adapt (an older build) gets "-" there.
measure() {
    local bin=$1 model=$2 load=$3 t r out adapt=1
    grep -q -- --adapt <<<"$("$bin" bench --help 2>&1)" || adapt=0  # not a pipe: grep -q would cut it (pipefail)
    declare -A tr ev
    for r in $(seq "$repeat"); do
        for t in 1 2 a; do
            case $t in
            a) [ $adapt = 1 ] || continue
               out=$("$bin" bench --models "$model" --threads 2 --adapt --steps "$steps" --warmup 8 --no-gemm --csv | tail -1) ;;
            *) out=$("$bin" bench --models "$model" --threads $t --steps "$steps" --warmup 2 --no-gemm --csv | tail -1) ;;
            esac
            tr[$t]+="$(cut -d, -f4 <<<"$out") " ev[$t]+="$(cut -d, -f5 <<<"$out") "
        done
    done
    local t1 t2 ta=-
    t1=$(med "${tr[1]}") t2=$(med "${tr[2]}")
    [ $adapt = 1 ] && ta=$(med "${tr[a]}")
    printf '%-10s %-9s %-6s train img/s 1 thread %8.1f  2 threads %8.1f  (2/1 = %.2f)  adaptive %8s  (a/1 = %s)' \
        "$(label "$bin")" "$model" "$load" "$t1" "$t2" "$(awk "BEGIN{print $t2/$t1}")" "$ta" "$(ratio "$ta" "$t1")"
    printf '   eval %8.1f %8.1f\n' "$(med "${ev[1]}")" "$(med "${ev[2]}")"
}

# bin load: `dppf train` of ResNet-20 (one worker, batch 128, synthetic
# 1x32x32 images, CONTENTION_TRAIN_STEPS steps, evaluated only at the end)
# with run.threads 1, 2 pinned (run.adapt_threads false) and 2 governed (the
# default): the median samples/s of the summary (training time only). A
# binary without run.adapt_threads gets "-" for the governed run.
train_measure() {
    local bin=$1 load=$2 r cfg out v adapt=1
    grep -q adapt_threads <<<"$("$bin" schema 2>/dev/null)" || adapt=0
    declare -A sp
    for r in $(seq "$repeat"); do
        for cfg in 1:false 2:false 2:true; do
            [ $adapt = 0 ] && [ $cfg = 2:true ] && continue
            local set=(--set run.threads=${cfg%%:*})
            [ $adapt = 1 ] && set+=(--set run.adapt_threads=${cfg##*:})
            out=$("$bin" train "$root/configs/resnet20.yaml" --set data.dataset=synthetic --set data.train_size=8192 \
                --set data.test_size=128 --set data.shape=[1,32,32] --set optim.max_steps="$train_steps" \
                --set run.eval_every=1000 --set run.out_dir="$tmp/train" --force "${set[@]}" 2>&1 | grep '^  time')
            v=$(sed -n 's/.* \([0-9.]*\) samples\/s.*/\1/p' <<<"$out")
            sp[$cfg]+="$v "
        done
    done
    local m1 m2 ma=-
    m1=$(med "${sp[1:false]}") m2=$(med "${sp[2:false]}")
    [ $adapt = 1 ] && ma=$(med "${sp[2:true]}")
    printf '%-10s %-9s %-6s train run samples/s 1 thread %6s  2 pinned %6s  (2/1 = %.2f)  2 governed %6s  (g/1 = %s)\n' \
        "$(label "$bin")" "resnet20" "$load" "$m1" "$m2" "$(awk "BEGIN{print $m2/$m1}")" "$ma" "$(ratio "$ma" "$m1")"
}

{
    echo "# results/contention.sh $*  ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, medians of $repeat, $steps steps)"
    echo "# GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-unset} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}"
    for load in idle busy; do
        if [ $load = busy ]; then
            python3 -c 'while 1: pass' &
            busy=$!
        fi
        echo "## $load: one competing process: $([ $load = busy ] && echo yes || echo no); load average $(cut -d' ' -f1-3 /proc/loadavg)"
        for model in ${models//,/ }; do
            measure "$dppf" "$model" $load
            [ -n "$old" ] && measure "$old" "$model" $load
        done
        [ "$train_steps" != 0 ] && train_measure "$dppf" $load
    done
    kill "$busy"
    busy=
} | tee "$log"
