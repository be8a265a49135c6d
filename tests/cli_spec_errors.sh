# Bad input on the command line and in specs: clear messages, exit 2, nothing written.
source "$(dirname "$0")/clilib.sh" "$@"
SYN="--set data.dataset=synthetic --set data.train_size=256 --set data.test_size=64 --set model.arch=mlp --set optim.epochs=1 --set optim.batch_size=32"

expect_exit 0 "dppf --help" -- "$DPPF" --help
expect_output "train" "--help lists train"
expect_exit 0 "dppf --version" -- "$DPPF" --version
expect_output "^dppf [0-9]+\.[0-9]+" "--version prints a version"
for sub in train eval schema sharpness landscape plot bench; do
  expect_exit 0 "dppf $sub --help" -- "$DPPF" "$sub" --help
  expect_output "usage: dppf $sub" "dppf $sub --help shows usage"
done
expect_exit 2 "unknown command" -- "$DPPF" frobnicate
expect_output "unknown command 'frobnicate'" "unknown command named"
expect_exit 2 "unknown option" -- "$DPPF" train --bogus
expect_output "unknown option '--bogus'" "unknown option named"

printf 'optim:\n  lr: [1, 2\n' > syntax.yaml
expect_exit 2 "YAML syntax error" -- "$DPPF" train syntax.yaml
expect_output "syntax.yaml:[0-9]+:[0-9]+" "syntax error names file:line:column"

printf 'optim:\n  lr: 0.1\n  learning_rate: 0.1\nrun:\n  out_dir: should-not-exist\n' > unknown.yaml
expect_exit 2 "unknown key" -- "$DPPF" train unknown.yaml
expect_output "unknown.yaml:3:.*learning_rate" "unknown key named with its line"
expect_output "lr, momentum" "unknown key lists the valid keys"
[ ! -e should-not-exist ] && pass "nothing written on a spec error" || fail "run folder created despite a spec error"

printf 'optim:\n  lr: fast\n' > type.yaml
expect_exit 2 "wrong type" -- "$DPPF" train type.yaml
expect_output "optim.lr.*number" "wrong type names key and expected type"

printf 'optim:\n  momentum: 1.5\n' > range.yaml
expect_exit 2 "out of range" -- "$DPPF" train range.yaml
expect_output "optim.momentum" "out-of-range names the key"

expect_exit 3 "missing spec file" -- "$DPPF" train does-not-exist.yaml
expect_output "does-not-exist.yaml" "missing spec file named"

printf 'run:\n  out_dir: run1\n' > ok.yaml
expect_exit 2 "--set unknown key" -- "$DPPF" train ok.yaml --set optim.bogus=1
expect_output "optim.bogus" "--set unknown key named"
expect_exit 2 "--set bad value" -- "$DPPF" train ok.yaml --set optim.batch_size=-3
expect_output "optim.batch_size" "--set bad value names the key"
expect_exit 2 "--set bad dist.algorithm" -- "$DPPF" train ok.yaml --set dist.algorithm=magic
expect_output "dist.algorithm" "unknown algorithm names the key"
# The methods' keys: unknown names, out-of-range strengths, combinations without a fixed point.
expect_exit 2 "unknown push_every" -- "$DPPF" train ok.yaml --set dist.push_every=sometimes
expect_output "dist.push_every: expected one of sync, step, got 'sometimes'" "unknown push_every named with its choices"
expect_exit 2 "lsgd pull out of range" -- "$DPPF" train ok.yaml --set dist.lsgd_pull=[0.5,1.5]
expect_output "dist.lsgd_pull\[1\]: expected a number in \[0, 1\]" "out-of-range lsgd pull names the key and item"
expect_exit 2 "negative sam_rho" -- "$DPPF" train ok.yaml --set optim.sam_rho=-0.05
expect_output "optim.sam_rho: expected a number >= 0" "negative sam_rho names the key"
expect_exit 2 "outer momentum 1" -- "$DPPF" train ok.yaml --set dist.outer_momentum=1
expect_output "dist.outer_momentum" "outer momentum out of range names the key"
expect_exit 2 "per-step pull without per-step push" -- "$DPPF" train ok.yaml --set dist.algorithm=dppf --set dist.pull_every=step
expect_output "dist.pull_every: 'step' needs dist.push_every: step" "per-step pull explained"
expect_exit 2 "lsgd groups that do not divide the workers" -- "$DPPF" train ok.yaml --set dist.algorithm=lsgd --set dist.workers=4 --set dist.lsgd_group=3
expect_output "dist.lsgd_group: groups of 3 workers do not divide dist.workers = 4" "lsgd groups explained"
[ ! -e run1 ] && pass "nothing written on --set errors" || fail "run folder created despite --set error"

# A dataset that is not there: names the path, exit 3.
expect_exit 3 "missing dataset" -- "$DPPF" train ok.yaml --set data.path=/nonexistent/fmnist --quiet
expect_output "/nonexistent/fmnist" "missing dataset names the path"

# An existing run is not overwritten without --force.
expect_exit 0 "tiny synthetic run" -- "$DPPF" train ok.yaml $SYN --quiet
expect_exit 2 "refuses to overwrite a run" -- "$DPPF" train ok.yaml $SYN --quiet
expect_output "already holds a run" "overwrite refusal explains"
expect_exit 0 "--force overwrites" -- "$DPPF" train ok.yaml $SYN --quiet --force
# Every shipped config loads, validates and trains a step.
if have_fashion_mnist; then
  for cfg in "$SRC"/configs/*.yaml; do
    name=$(basename "$cfg" .yaml)
    expect_exit 0 "configs/$name.yaml runs" -- "$DPPF" train "$cfg" --set optim.max_steps=2 --set data.train_subset=2048 --set data.test_subset=64 --set run.out_dir="cfg-$name" --quiet
  done
fi
finish
