# The command line itself: every subcommand's --help and its own usage on
# errors, unknown options, strict numbers and their ranges (seeds exact to 64
# bits), --opt=value, the --set limit, positional argument counts, and a
# write past `ulimit -f` ending with exit 3 instead of killing the process.
source "$(dirname "$0")/clilib.sh" "$@"
COMMANDS="train eval sharpness landscape plot bench schema export import"
# A tiny MLP on synthetic data: a checkpoint in a second.
MLP="--set data.dataset=synthetic --set data.train_size=256 --set data.test_size=64 --set model.arch=mlp --set model.hidden=[16] --set optim.epochs=1 --set optim.batch_size=32 --set run.threads=1 --quiet"
# bench, should a bad value ever be accepted again, must still end quickly.
BENCH_FAST="--models mlp --threads 1 --steps 1 --warmup 0 --batch 8 --no-gemm"

# usage_of SUB DESCRIPTION: the last output shows SUB's usage and no other command's.
usage_of() {
  local shown
  shown=$(grep -oE '^usage: dppf [^ ]+' "$WORK/out" | sort -u)
  [ "$shown" = "usage: dppf $1" ] && pass "$2" || { fail "$2: usage shown: '$shown'"; sed 's/^/    /' "$WORK/out" >&2; }
}

# --- Help, and the command list from the table ---
for sub in $COMMANDS; do
  expect_exit 0 "dppf $sub --help" -- "$DPPF" "$sub" --help
  usage_of "$sub" "dppf $sub --help shows its own usage"
  expect_output "^  -h, --help +this help" "dppf $sub --help lists its options"
  expect_exit 0 "dppf help $sub" -- "$DPPF" help "$sub"
  usage_of "$sub" "dppf help $sub shows its usage"
done
for how in --help help; do
  expect_exit 0 "dppf $how" -- "$DPPF" $how
  for sub in $COMMANDS; do expect_output "^  $sub( |$)" "dppf $how lists $sub"; done
done
expect_exit 2 "dppf with no command" -- "$DPPF"
expect_output "^usage: dppf <command>" "no command prints the command list"
expect_exit 2 "dppf help of an unknown command" -- "$DPPF" help frobnicate
expect_output "unknown command 'frobnicate'" "names the unknown command"
expect_exit 0 "dppf --version" -- "$DPPF" --version
expect_output "^dppf [0-9]+\.[0-9]+" "--version prints a version"

# --- Unknown options: exit 2, the command's own usage ---
for sub in $COMMANDS; do
  expect_exit 2 "dppf $sub --bogus" -- "$DPPF" "$sub" --bogus
  expect_output "^dppf $sub: unknown option '--bogus'" "dppf $sub names the unknown option"
  usage_of "$sub" "dppf $sub --bogus shows its own usage"
done
expect_exit 2 "dppf schema with an argument" -- "$DPPF" schema extra
expect_output "unexpected argument 'extra'" "schema names the extra argument"

# --- A small checkpoint for the options that need one ---
expect_exit 0 "tiny MLP checkpoint" -- "$DPPF" train base.yaml $MLP --set run.out_dir=run
CKPT=run/checkpoint.bin

# Regression: numeric errors of landscape printed bench's help.
expect_exit 2 "landscape --grid x" -- "$DPPF" landscape $CKPT --grid x
expect_output "^dppf landscape: --grid: 'x' is not an integer" "names --grid and the value"
usage_of landscape "landscape --grid x shows landscape's usage"
expect_exit 2 "sharpness --directions x" -- "$DPPF" sharpness $CKPT --directions x
usage_of sharpness "sharpness --directions x shows sharpness's usage"

# --- Seeds: digits only, the full 64-bit range, kept exactly ---
for bad in abc -1 1e3 1.5 "" " 5" 18446744073709551616; do
  expect_exit 2 "sharpness --seed '$bad'" -- "$DPPF" sharpness $CKPT --seed "$bad"
  expect_output "^dppf sharpness: --seed: '$bad' is not an integer in \[0, 18446744073709551615\]" "sharpness rejects seed '$bad'"
  expect_exit 2 "landscape --seed '$bad'" -- "$DPPF" landscape $CKPT --seed "$bad"
  expect_exit 2 "bench --seed '$bad'" -- "$DPPF" bench $BENCH_FAST --seed "$bad"
done
# 2^53 + 1 is not a double: read through strtod it became 2^53, the same directions.
LAND="--mode random --no-png --samples 64 --grid 5"
expect_exit 0 "landscape --seed 2^53+1" -- "$DPPF" landscape $CKPT $LAND --seed 9007199254740993 --out s1
expect_exit 0 "landscape --seed 2^53" -- "$DPPF" landscape $CKPT $LAND --seed 9007199254740992 --out s2
expect_exit 0 "landscape --seed 2^53+1 again" -- "$DPPF" landscape $CKPT $LAND --seed 9007199254740993 --out s3
cmp -s s1/landscape-1d-random.csv s3/landscape-1d-random.csv && pass "the same seed gives the same curve" || fail "one seed, two curves"
cmp -s s1/landscape-1d-random.csv s2/landscape-1d-random.csv && fail "seeds 2^53+1 and 2^53 give the same curve" || pass "seeds 2^53+1 and 2^53 give different curves"
expect_exit 0 "landscape --seed 2^64-1" -- "$DPPF" landscape $CKPT $LAND --seed 18446744073709551615 --out s4

# --- Other numbers: finite and within range ---
for bad in 1e39 nan inf 0 -1 1001 x; do
  expect_exit 2 "landscape --range $bad" -- "$DPPF" landscape $CKPT --range "$bad"
  expect_output "^dppf landscape: --range: '$bad' is not a number in \(0, 1000\]" "--range $bad: says the range"
done
for bad in 1,nan 0,1 1,inf nan,1 5,1 1 1,2x; do
  expect_exit 2 "landscape --zrange $bad" -- "$DPPF" landscape $CKPT --zrange "$bad"
done
expect_exit 2 "landscape --grid 1" -- "$DPPF" landscape $CKPT --grid 1
expect_exit 2 "landscape --grid 2^40" -- "$DPPF" landscape $CKPT --grid 1099511627776
expect_exit 2 "landscape --samples -1" -- "$DPPF" landscape $CKPT --samples -1
expect_exit 2 "sharpness --rho inf" -- "$DPPF" sharpness $CKPT --rho inf
expect_exit 2 "sharpness --mv-eps -0.1" -- "$DPPF" sharpness $CKPT --mv-eps -0.1
expect_exit 2 "sharpness --eps 1e300" -- "$DPPF" sharpness $CKPT --eps 1e300
expect_exit 2 "sharpness --hessian-iters 0" -- "$DPPF" sharpness $CKPT --hessian-iters 0
expect_exit 2 "export --worker -1" -- "$DPPF" export $CKPT x.safetensors --worker -1
expect_exit 2 "bench --steps 0" -- "$DPPF" bench $BENCH_FAST --steps 0
expect_exit 2 "bench --batch 5x" -- "$DPPF" bench $BENCH_FAST --batch 5x

# --- bench: every architecture of the model table, and the names on a typo ---
BENCH_NEW=resnet18,vgg16,wrn,pyramidnet,preresnet20
expect_exit 0 "bench --models $BENCH_NEW" -- "$DPPF" bench --models $BENCH_NEW --threads 1 --steps 1 --warmup 0 --batch 2 --no-gemm --csv
rows=$(awk -F, 'NR > 1 && $2 == 1 && $3 == 2 && $4 > 0 && $5 > 0 { printf "%s,", $1 }' "$WORK/out")
[ "$rows" = "$BENCH_NEW," ] && [ "$(wc -l <"$WORK/out")" -eq 6 ] && pass "one CSV row per new model, positive img/s" ||
  { fail "bench CSV rows: '$rows'"; sed 's/^/    /' "$WORK/out" >&2; }
# the step's share of the peak: the last CSV column, a fraction, with the GEMM replay on
expect_exit 0 "bench cnn with the GEMM replay" -- "$DPPF" bench --models cnn --threads 1 --steps 1 --warmup 0 --batch 8 --csv
head -n 1 "$WORK/out" | grep -q ',threads_used,step_peak_share$' && pass "CSV header ends with step_peak_share" ||
  fail "bench CSV header: $(head -n 1 "$WORK/out")"
awk -F, 'NR == 2 { exit !($NF > 0 && $NF < 2) }' "$WORK/out" && pass "step_peak_share $(awk -F, 'NR == 2 { print $NF }' "$WORK/out") is a plausible fraction" ||
  { fail "step_peak_share"; sed 's/^/    /' "$WORK/out" >&2; }
expect_exit 2 "bench --models resnet21" -- "$DPPF" bench --models resnet20,resnet21 --threads 1 --steps 1 --warmup 0 --batch 2 --no-gemm
expect_output "unknown model 'resnet21' \(choose from mlp, cnn, resnet8, .*preresnet110, resnet18, resnet34, pyramidnet, wrn, vgg16\)" "the unknown model's error lists the table's names"

# --- Forms: --opt=value, missing values, flags, -- ---
expect_exit 0 "--opt=value" -- "$DPPF" landscape $CKPT --mode=random --grid=5 --range=0.5 --samples=64 --seed=7 --no-png --out=eq
[ "$(tail -n +2 eq/landscape-1d-random.csv | wc -l)" -eq 5 ] && pass "--grid=5 gives 5 points" || fail "--grid=5: $(cat eq/landscape-1d-random.csv)"
awk -F, 'NR == 2 { exit !($1 == -0.5) }' eq/landscape-1d-random.csv && pass "--range=0.5 starts the curve at -0.5" || fail "--range=0.5: $(sed -n 2p eq/landscape-1d-random.csv)"
expect_exit 2 "a missing value" -- "$DPPF" landscape $CKPT --grid
expect_output "^dppf landscape: --grid needs a value" "names the option that lacks its value"
expect_exit 2 "a value given to a flag" -- "$DPPF" landscape $CKPT --no-png=1
expect_output "--no-png takes no value" "says the flag takes no value"
expect_exit 3 "after --, a dash starts a file name" -- "$DPPF" plot -o x.png -- -missing.csv
expect_output "'?-missing\.csv" "the file is named"
expect_exit 2 "--set key=value as --set=key=value" -- "$DPPF" train base.yaml $MLP --set=optim.bogus=1
expect_output "optim\.bogus" "--set=key=value reaches the spec"

# --- The --set limit ---
sets=(); for i in $(seq 256); do sets+=(--set run.threads=1); done
expect_exit 0 "256 --set options" -- "$DPPF" eval --checkpoint $CKPT --csv "${sets[@]}"
expect_exit 2 "257 --set options" -- "$DPPF" eval --checkpoint $CKPT --csv "${sets[@]}" --set run.threads=1
expect_output "too many --set options \(at most 256\)" "the message says the limit"

# --- Positional arguments and required options ---
expect_exit 2 "export with one file" -- "$DPPF" export $CKPT
expect_output "^dppf export: needs CKPT OUT\.safetensors" "export says what it needs"
expect_exit 2 "export with three files" -- "$DPPF" export $CKPT a b
expect_exit 2 "eval without --checkpoint" -- "$DPPF" eval
expect_output "needs --checkpoint CKPT" "eval says --checkpoint is required"
expect_exit 2 "import without --out" -- "$DPPF" import m.safetensors --spec base.yaml
expect_output "needs --out INIT\.bin" "import says --out is required"
expect_exit 2 "sharpness with two checkpoints" -- "$DPPF" sharpness $CKPT $CKPT
expect_exit 2 "train without CONFIG or --resume" -- "$DPPF" train

# --- A write past `ulimit -f` fails cleanly (exit 3) instead of SIGXFSZ (exit 153) ---
# The signal's default action restored, whatever the test runner ignores:
# dppf itself must ignore it. 100 KB: the spec fits, the checkpoint does not.
limited() { ( ulimit -f 100; exec env --default-signal=XFSZ "$@" ); }
expect_exit 3 "a checkpoint past ulimit -f" -- limited "$DPPF" train base.yaml $MLP --set model.hidden=[256] --set run.out_dir=big
expect_output "cannot write checkpoint 'big/checkpoint\.bin'" "names the checkpoint"
left=$(ls big | grep '\.tmp\.' || true)
[ -z "$left" ] && pass "no temp file left" || fail "temp files left: $left"
[ ! -e big/checkpoint.bin ] && pass "no checkpoint.bin" || fail "big/checkpoint.bin written"
finish
