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
# prints the median train and eval img/s. Knobs: CONTENTION_MODELS
# (default resnet20,cnn), CONTENTION_STEPS (default 10). The machine's load
# average is printed with each block: other jobs on the machine count as
# contention too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dppf=${1:-$root/build/dppf}
old=${2:-}
repeat=${CONTENTION_REPEAT:-5}
steps=${CONTENTION_STEPS:-10}
models=${CONTENTION_MODELS:-resnet20,cnn}
log=$root/results/logs/contention.log
busy=
trap '[ -n "$busy" ] && kill "$busy" 2>/dev/null; true' EXIT

median() { sort -g | awk '{v[NR]=$1} END {print NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# bin model load: one line with the medians of 1 thread, 2 threads, and up to
# 2 threads chosen by the governor (--adapt: the thread count of each step,
# as `dppf train` runs by default; 8 warm-up steps stand for the start of a
# run, in which the governor makes its first probes). A binary without
# --adapt (an older build) gets "-" there.
measure() {
    local bin=$1 model=$2 load=$3 t r out adapt=1
    "$bin" bench --help 2>&1 | grep -q -- --adapt || adapt=0
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
    t1=$(tr ' ' '\n' <<<"${tr[1]}" | grep . | median)
    t2=$(tr ' ' '\n' <<<"${tr[2]}" | grep . | median)
    [ $adapt = 1 ] && ta=$(tr ' ' '\n' <<<"${tr[a]}" | grep . | median)
    printf '%-10s %-9s %-6s train img/s 1 thread %8.1f  2 threads %8.1f  (2/1 = %.2f)  adaptive %8s  (a/1 = %s)' \
        "$(basename "$(dirname "$(dirname "$(readlink -f "$bin")")")")" "$model" "$load" "$t1" "$t2" \
        "$(awk "BEGIN{print $t2/$t1}")" "$ta" "$([ "$ta" = - ] && echo - || awk "BEGIN{printf \"%.2f\", $ta/$t1}")"
    printf '   eval %8.1f %8.1f\n' "$(tr ' ' '\n' <<<"${ev[1]}" | grep . | median)" \
        "$(tr ' ' '\n' <<<"${ev[2]}" | grep . | median)"
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
    done
    kill "$busy"
    busy=
} | tee "$log"
