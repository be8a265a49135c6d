#!/usr/bin/env bash
# Performance regression guard for the training step (scripts/test.sh runs it in CI).
#
#   bench/guard.sh [path/to/dppf]            check against bench/guard-baseline.csv
#   bench/guard.sh --record [path/to/dppf]   print this machine's lines for that file
#
# For each model, `dppf bench --threads 1` times the training step and, in the
# same run, BLIS's peak (a 1024^3 SGEMM). The figure is
#     step ms x peak GFLOP/s / 1000
# = what one step costs in GFLOP at peak speed: a faster or slower machine
# changes both factors alike, so the figure is a ratio, not a time. Best (lowest)
# of RUNS runs, so a passing neighbour's burst does not fail the build.
#
# Exit 1 if a figure is more than 30% (GUARD_TOLERANCE) above the committed one
# for the same CPU model and BLIS kernels. On another CPU the comparison is
# printed but advisory only (exit 0): how a step's memory-bound part compares
# with peak FLOPs is a property of the micro-architecture; record a baseline
# there to guard it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
record=0
if [[ ${1:-} == --record ]]; then record=1; shift; fi
dppf=${1:-$here/../build/dppf}
baseline=${GUARD_BASELINE:-$here/guard-baseline.csv}
tolerance=${GUARD_TOLERANCE:-0.30}
runs=${GUARD_RUNS:-3}
# model:steps:warmup; about 40 s in all on 2 cores.
items=(${GUARD_MODELS:-resnet20:4:1 cnn:12:2})

[[ -x $dppf ]] || { echo "guard: no dppf binary at $dppf (build first: scripts/build.sh)" >&2; exit 2; }
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
cpu=${cpu:-unknown CPU}
cpu=${cpu//,/ }
kernels=$("$dppf" bench --models mlp --threads 1 --steps 1 --warmup 0 --no-gemm 2>/dev/null |
    sed -n 's/.*(BLIS micro-kernel: \([^)]*\)).*/\1/p' | head -n 1)
kernels=${kernels:-unknown}

declare -A best
for item in "${items[@]}"; do
    IFS=: read -r model steps warmup <<<"$item"
    for ((r = 0; r < runs; r++)); do
        row=$("$dppf" bench --models "$model" --threads 1 --steps "$steps" --warmup "$warmup" --csv |
            tail -n 1)
        # model,threads,batch,train_img_s,eval_img_s,step_ms,gemm_share,gemm_gflops,peak_gflops,...
        fig=$(awk -F, '{ printf "%.3f", $6 * $9 / 1000 }' <<<"$row")
        if [[ -z ${best[$model]:-} ]] || awk -v a="$fig" -v b="${best[$model]}" 'BEGIN { exit !(a < b) }'; then
            best[$model]=$fig
        fi
    done
done

if ((record)); then
    for item in "${items[@]}"; do
        model=${item%%:*}
        echo "$cpu,$kernels,$model,1,${best[$model]}"
    done
    exit 0
fi

[[ -r $baseline ]] || { echo "guard: no baseline file $baseline" >&2; exit 2; }
status=0
echo "guard: CPU '$cpu', BLIS kernels $kernels; figure = step ms x peak GFLOP/s / 1000 (lower is better), best of $runs"
for item in "${items[@]}"; do
    model=${item%%:*}
    now=${best[$model]}
    # the committed line for this CPU, else any line for the model (advisory)
    line=$(awk -F, -v c="$cpu" -v k="$kernels" -v m="$model" '$1 == c && $2 == k && $3 == m && $4 == 1' "$baseline" | tail -n 1)
    strict=1
    if [[ -z $line ]]; then
        strict=0
        line=$(awk -F, -v m="$model" '$3 == m && $4 == 1' "$baseline" | tail -n 1)
    fi
    if [[ -z $line ]]; then
        echo "  $model: $now (no committed figure for this model)"
        continue
    fi
    was=$(cut -d, -f5 <<<"$line")
    verdict=$(awk -v n="$now" -v w="$was" -v t="$tolerance" 'BEGIN {
        r = n / w; printf "%+.0f%% ", 100 * (r - 1); print (r > 1 + t ? "SLOWER" : "ok") }')
    if ((strict)); then
        echo "  $model: $now vs committed $was: $verdict"
        [[ $verdict == *SLOWER ]] && status=1
    else
        echo "  $model: $now vs $was committed on '$(cut -d, -f1 <<<"$line")' ($(cut -d, -f2 <<<"$line")): $verdict (advisory: another CPU)"
    fi
done
if ((status)); then
    echo "guard: the training step slowed by more than $(awk -v t="$tolerance" 'BEGIN { print 100 * t }')% relative to this machine's GEMM peak" >&2
fi
exit $status
