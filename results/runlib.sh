# Shared by results/{sweep,noniid,flatness}.sh (sourced, not run): the
# options every study takes, and the job runner.
#
#   --quick        the reduced study (checks the pipeline; numbers are not evidence)
#   --tiny         a few steps per run on small synthetic data (tests/cli_results.sh)
#   --jobs N       runs at a time (default 2)
#   --out DIR      where the run folders go (default runs/<study>[-quick|-tiny])
#   --seeds "S..." only these of the study's seeds (e.g. "1": one seed of
#                  everything first, the rest later; finished runs are skipped)
#   --tiny-data    with --quick (or the full study): its job list, but every run
#                  on --tiny's data and length, so that a test can run the
#                  gather step on output laid out as the real study's
#
# Every dppf process runs under $NICE (default `nice -n 19`: the studies share
# the machine with performance measurements) with run.threads 1.

parse_study_opts() { # "$@" of the study script; sets mode, jobs, out
    mode=full jobs=2 out="" seeds_opt="" tiny_data=0
    while [ $# -gt 0 ]; do
        case "$1" in
        --quick) mode=quick ;;
        --tiny) mode=tiny ;;
        --tiny-data) tiny_data=1 ;;
        --jobs) jobs=${2:?--jobs needs a number}; shift ;;
        --out) out=${2:?--out needs a folder}; shift ;;
        --seeds) seeds_opt=${2:?--seeds needs a list}; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "$(basename "$0"): unknown option '$1' (see --help)" >&2; exit 2 ;;
        esac
        shift
    done
}

# The data of --tiny: small synthetic images, so a run takes a second.
TINY_DATA=(--set data.dataset=synthetic --set data.train_size=1024 --set data.test_size=256
           --set data.shape=[1,12,12])

# run_jobs JOBFILE: each line is
#   CONFIG NAME MEASURES [--set key=value]...
# and trains configs/CONFIG.yaml into $out/NAME with "${common[@]}" and the
# line's overrides, then writes NAME/eval.csv (`dppf eval --csv` with
# $EVAL_SET: train and test loss/accuracy of the averaged model) and, unless
# MEASURES is "-", NAME/sharpness.csv (`dppf sharpness --csv --measures
# MEASURES $SHARP_ARGS`). A run whose outputs exist is skipped, so an
# interrupted study continues where it stopped (a run cut short restarts).
one_job() {
    local config=$1 name=$2 measures=$3; shift 3
    local dir=$out/$name
    if [ -s "$dir/eval.csv" ] && { [ "$measures" = - ] || [ -s "$dir/sharpness.csv" ]; }; then return 0; fi
    local t0=$SECONDS
    # shellcheck disable=SC2086
    $NICE "$DPPF" train "configs/$config.yaml" "${common[@]}" --set run.out_dir="$dir" "$@" >"$dir.train.log" 2>&1 ||
        { echo "FAILED: $name (see $dir.train.log)" >&2; return 1; }
    mv "$dir.train.log" "$dir/train.log"
    # shellcheck disable=SC2086
    $NICE "$DPPF" eval --checkpoint "$dir/checkpoint.bin" $EVAL_SET --csv >"$dir/eval.csv.tmp" &&
        mv "$dir/eval.csv.tmp" "$dir/eval.csv"
    if [ "$measures" != - ]; then
        # shellcheck disable=SC2086
        $NICE "$DPPF" sharpness "$dir/checkpoint.bin" --measures "$measures" $SHARP_ARGS --csv \
            >"$dir/sharpness.csv.tmp" && mv "$dir/sharpness.csv.tmp" "$dir/sharpness.csv"
    fi
    echo "done: $name ($((SECONDS - t0)) s)"
}

run_jobs() {
    local jobfile=$1
    export -f one_job
    export DPPF NICE out EVAL_SET SHARP_ARGS
    # xargs runs one_job in fresh shells: the array travels as a string
    # (no override contains a space).
    export common_str="${common[*]}"
    echo "$(basename "$0"): $(wc -l <"$jobfile") runs in $out, $jobs at a time ($(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1 /proc/loadavg))" >&2
    xargs -P "$jobs" -L 1 bash -c 'read -ra common <<<"$common_str"; one_job "$@"' _ <"$jobfile"
}

study_setup() { # STUDY: the default out folder's stem; cd to the repository
    root=$(cd "$(dirname "$0")/.." && pwd)
    DPPF=${DPPF:-$root/build/dppf}
    NICE=${NICE-nice -n 19}
    [ -x "$DPPF" ] || { echo "$(basename "$0"): no dppf binary at $DPPF (build first: scripts/build.sh)" >&2; exit 2; }
    if [ -n "$out" ]; then
        mkdir -p "$out" && out=$(cd "$out" && pwd)
    else
        case $mode in
        full) out=$root/runs/$1 ;;
        *) out=$root/runs/$1-$mode ;;
        esac
        [ "$tiny_data" = 1 ] && out=$out-tiny-data
        mkdir -p "$out"
    fi
    cd "$root"
}
