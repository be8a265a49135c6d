#!/usr/bin/env bash
# bench/run.sh - dppf vs PyTorch training/eval throughput, side by side.
#
#   bench/run.sh [--models LIST] [DPPF_BINARY]   (default: build/dppf; builds nothing)
#
#   --models LIST  the models to run, comma-separated, instead of BENCH_MODELS:
#                  any name of `dppf bench --models` (e.g. --models resnet18),
#                  each with its default steps:warmup below, or NAME:STEPS:WARMUP
#
# Runs `dppf bench --csv` and bench/bench_torch.py --csv on the same models,
# batch, step counts and thread counts, prints a table with dppf/PyTorch
# ratios, and writes results/bench/bench.md (table, exact commands, machine)
# plus the raw CSVs next to it. Each cell is the median of BENCH_REPEAT runs,
# dppf and PyTorch alternating, because a shared or virtual machine drifts by
# tens of percent from minute to minute. About 4 minutes on 2 cores.
#
# Environment knobs:
#   BENCH_MODELS   "model[:steps:warmup] ..." (space- or comma-separated; default
#                  "resnet20 cnn mlp"). Steps per model keep the timed part of
#                  each roughly similar: resnet20 10:2, cnn 30:3, mlp 300:20,
#                  the small CIFAR ResNets 10:2, resnet32/56 5:1, the large
#                  models (resnet110, resnet18/34, pyramidnet, wrn, vgg16) 3:1
#   BENCH_THREADS  comma-separated thread counts (default 1,2)
#   BENCH_BATCH    images per step (default 128)
#   BENCH_OUT      output folder (default results/bench)
#   BENCH_REPEAT   runs of everything; the table shows medians (default 3)
#   PYTHON         a Python with torch (default: python3 if it has torch, else /usr/bin/python3)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
    exit 0
fi
usage() { echo "usage: bench/run.sh [--models LIST] [DPPF_BINARY]" >&2; exit 2; }
models=${BENCH_MODELS:-"resnet20 cnn mlp"}
while [[ $# -gt 0 ]]; do
    case $1 in
    --models) [[ $# -ge 2 ]] || usage; models=$2; shift 2 ;;
    --models=*) models=${1#--models=}; shift ;;
    -*) usage ;;
    *) break ;;
    esac
done
[[ $# -le 1 ]] || usage

dppf=${1:-$root/build/dppf}
models=${models//,/ }
[[ -n ${models// /} ]] || { echo "bench/run.sh: no models given" >&2; exit 2; }

# default_steps NAME: "steps:warmup" for a model given without them.
default_steps() {
    case $1 in
    mlp) echo 300:20 ;;
    cnn) echo 30:3 ;;
    resnet8 | resnet14 | resnet20 | preresnet8 | preresnet14 | preresnet20) echo 10:2 ;;
    resnet32 | resnet56 | preresnet32 | preresnet56) echo 5:1 ;;
    *) echo 3:1 ;;
    esac
}
threads=${BENCH_THREADS:-1,2}
batch=${BENCH_BATCH:-128}
out=${BENCH_OUT:-$root/results/bench}
repeat=${BENCH_REPEAT:-3}
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { echo "bench/run.sh: BENCH_REPEAT must be a positive integer" >&2; exit 2; }

die() { echo "bench/run.sh: $*" >&2; exit 1; }

[[ -x $dppf ]] || die "no dppf binary at '$dppf' (build first: scripts/build.sh, or pass its path)"
"$dppf" bench --help >/dev/null 2>&1 || die "'$dppf bench' is not available in this binary"

py=${PYTHON:-}
if [[ -z $py ]]; then
    for cand in python3 /usr/bin/python3; do
        if command -v "$cand" >/dev/null && "$cand" -c 'import torch' 2>/dev/null; then
            py=$cand
            break
        fi
    done
fi
[[ -n $py ]] || die "no Python with torch found (apt-get install python3-torch, or set PYTHON)"
"$py" -c 'import torch' 2>/dev/null || die "'$py' cannot import torch"

mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

commands=()
run_csv() { # run_csv OUTFILE ERRFILE CMD... : append CMD's CSV rows (header once) to OUTFILE
    local file=$1 err=$2
    shift 2
    ((rep > 1)) || commands+=("${*//$root\//}") # shown relative to the repository root
    echo "+ $*" >&2
    "$@" >"$tmp/one.csv" 2>>"$err" || { cat "$err" >&2; die "failed: $*"; }
    if [[ -s $file ]]; then tail -n +2 "$tmp/one.csv" >>"$file"; else cat "$tmp/one.csv" >"$file"; fi
}

: >"$tmp/dppf.csv"
: >"$tmp/torch.csv"
# Timings are only meaningful on an otherwise idle machine: say so when it is not.
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
    echo "bench/run.sh: warning: load average is $load; other processes will distort the timings" >&2
fi
start=$(date +%s)
for ((rep = 1; rep <= repeat; rep++)); do
    for m in $models; do
        [[ $m == *:* ]] || m=$m:$(default_steps "$m")
        IFS=: read -r name steps warmup <<<"$m"
        [[ -n $name && -n $steps && -n $warmup ]] || die "model item '$m' is not model or model:steps:warmup"
        common=(--models "$name" --threads "$threads" --steps "$steps" --warmup "$warmup" --batch "$batch")
        run_csv "$tmp/dppf.csv" "$tmp/dppf.err" "$dppf" bench "${common[@]}" --csv
        run_csv "$tmp/torch.csv" "$tmp/torch.err" "$py" "$here/bench_torch.py" "${common[@]}" --csv
    done
done
elapsed=$(($(date +%s) - start))

cp "$tmp/dppf.csv" "$out/dppf.csv"
cp "$tmp/torch.csv" "$out/torch.csv"

# The median of each column over the runs of one (model, threads), in first-seen order.
median_csv() { # median_csv IN OUT
    awk -F, -v OFS=, '
        NR == 1 { print; next }
        {
            k = $1 "," $2
            if (!(k in n)) { order[++keys] = k; first[k] = $0 }
            n[k]++
            for (c = 3; c <= NF; c++) v[k, c, n[k]] = $c
            nf[k] = NF
        }
        END {
            for (i = 1; i <= keys; i++) {
                k = order[i]
                split(first[k], row, ",")
                line = row[1] "," row[2]
                for (c = 3; c <= nf[k]; c++) {
                    m = 0
                    for (j = 1; j <= n[k]; j++) if (v[k, c, j] != "") a[++m] = v[k, c, j] + 0
                    if (m == 0) { line = line ","; continue }
                    for (x = 2; x <= m; x++) { y = a[x]; for (z = x - 1; z >= 1 && a[z] > y; z--) a[z + 1] = a[z]; a[z + 1] = y }
                    med = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
                    line = line "," med
                }
                print line
            }
        }' "$1" >"$2"
}
median_csv "$tmp/dppf.csv" "$tmp/dppf.med.csv"
median_csv "$tmp/torch.csv" "$tmp/torch.med.csv"

# Join on (model, threads) in dppf's row order; ratio = dppf / PyTorch.
table() { # table md|txt
    awk -F, -v fmt="$1" '
        NR == FNR { if (FNR > 1) { tr[$1 "," $2] = $4; ev[$1 "," $2] = $5 } next }
        FNR == 1 { next }
        {
            k = $1 "," $2
            rt = (k in tr && tr[k] > 0) ? sprintf("%.2f", $4 / tr[k]) : "n/a"
            re = (k in ev && ev[k] > 0) ? sprintf("%.2f", $5 / ev[k]) : "n/a"
            ttr = (k in tr) ? sprintf("%.1f", tr[k]) : "n/a"
            tev = (k in ev) ? sprintf("%.1f", ev[k]) : "n/a"
            share = $7 == "" ? "-" : sprintf("%.0f%%", 100 * $7)
            gf = $8 == "" ? "-" : $8
            pk = $9 == "" ? "-" : $9
            bl = $10 == "" ? "-" : $10
            if (fmt == "md") {
                if (!hdr++) {
                    print "| model | threads | batch | train img/s dppf | train img/s PyTorch | train ratio | eval img/s dppf | eval img/s PyTorch | eval ratio | dppf step ms | GEMM share | GEMM GFLOP/s | same shapes in BLIS GFLOP/s | BLIS peak GFLOP/s |"
                    print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
                }
                printf "| %s | %s | %s | %.1f | %s | %s | %.1f | %s | %s | %.1f | %s | %s | %s | %s |\n", \
                    $1, $2, $3, $4, ttr, rt, $5, tev, re, $6, share, gf, bl, pk
            } else {
                if (!hdr++)
                    printf "%-12s %3s %11s %11s %6s %11s %11s %6s %6s %8s %8s %8s\n", "model", "thr", \
                        "train dppf", "train torch", "ratio", "eval dppf", "eval torch", "ratio", \
                        "gemm%", "gemm GF", "BLIS GF", "peak GF"
                printf "%-12s %3s %11.1f %11s %6s %11.1f %11s %6s %6s %8s %8s %8s\n", $1, $2, $4, ttr, \
                    rt, $5, tev, re, share, gf, bl, pk
            }
        }' "$tmp/torch.med.csv" "$tmp/dppf.med.csv"
}

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
ncpu=$(nproc 2>/dev/null || echo "?")
blis=$("$dppf" bench --models mlp --threads 1 --steps 1 --warmup 0 --no-gemm 2>/dev/null | sed -n 's/.*(BLIS micro-kernel: \([^)]*\)).*/\1/p' | head -n 1)
dppf_version=$("$dppf" --version 2>/dev/null || echo "dppf (unknown version)")
torch_info=$("$py" -c 'import torch; print("PyTorch %s, oneDNN %s, %d intra-op threads by default" % (torch.__version__, "on" if torch.backends.mkldnn.is_available() else "off", torch.get_num_threads()))')
when=$(date -u '+%Y-%m-%d %H:%M UTC')

echo
echo "img/s (higher is better); ratio = dppf / PyTorch (> 1: dppf faster)"
table txt
echo
echo "machine: ${cpu:-unknown CPU}, $ncpu CPUs; BLIS sub-configuration: ${blis:-unknown}; $torch_info"

{
    echo "# dppf vs PyTorch throughput"
    echo
    echo "Measured $when by \`bench/run.sh\` in ${elapsed} s."
    echo
    echo "- machine: ${cpu:-unknown CPU}, $ncpu CPUs (\`lscpu\`, \`nproc\`); 1-minute load average $load at the start"
    echo "- $dppf_version; BLIS kernels: ${blis:-unknown} (see lib/gemm.c)"
    echo "- $torch_info"
    echo "- batch $batch, synthetic random data, SGD (lr 0.01, momentum 0.9, weight decay 5e-4);"
    echo "  img/s = batch / mean step time over the timed steps (see bench/README.md);"
    echo "  every cell is the median of $repeat runs, dppf and PyTorch alternating"
    echo
    echo "Ratios are dppf / PyTorch: above 1 dppf is faster. \"threads\" is run.threads"
    echo "for dppf and torch.set_num_threads for PyTorch: both split every op."
    echo
    table md
    echo
    echo "GEMM share: the time of the exact GEMM calls of one dppf training step (the"
    echo "convolutions' packing of im2col from the images included), replayed standalone,"
    echo "divided by the step time; GEMM GFLOP/s is their rate. \"Same shapes in BLIS\" runs"
    echo "those shapes image by image through bli_sgemm_ex on ready-made operands; BLIS peak"
    echo "is a 1024x1024x1024 SGEMM. Both with the same thread count."
    echo
    echo "## Commands"
    echo
    echo '```'
    for c in "${commands[@]}"; do echo "$c"; done
    echo '```'
    echo
    echo "Raw results (every run): \`dppf.csv\`, \`torch.csv\` in this folder."
} >"$out/bench.md"
echo "wrote $out/bench.md (and dppf.csv, torch.csv) in ${elapsed} s"
