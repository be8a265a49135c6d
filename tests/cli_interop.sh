# PyTorch interop: dppf export / import round trip, their errors, training from
# an imported model, and (when /usr/bin/python3 has torch and Fashion-MNIST is
# installed) the exported models in torch give dppf's test-set predictions.
source "$(dirname "$0")/clilib.sh" "$@"

for sub in export import; do
  expect_exit 0 "dppf $sub --help" -- "$DPPF" "$sub" --help
  expect_output "usage: dppf $sub" "dppf $sub --help shows usage"
  expect_exit 0 "dppf help $sub" -- "$DPPF" help "$sub"
  expect_output "usage: dppf $sub" "dppf help $sub shows usage"
done
"$DPPF" --help | grep -q "export CKPT" && "$DPPF" --help | grep -q "import MODEL" && pass "dppf --help lists export and import" || fail "dppf --help lacks export/import"
"$DPPF" eval --help | grep -q -- "--predictions" && pass "eval --help lists --predictions" || fail "eval --help lacks --predictions"

# A tiny 2-worker LocalSGD run, so the average differs from each worker.
SYN="--set data.dataset=synthetic --set data.train_size=512 --set data.test_size=128 --set model.arch=cnn --set model.widths=[4,8] --set model.fc=16 --set optim.batch_size=32 --set optim.epochs=1 --set dist.workers=2 --set dist.algorithm=localsgd --set dist.tau=4 --set run.seed=3"
expect_exit 0 "train a tiny cnn" -- "$DPPF" train base.yaml $SYN --set run.out_dir=run --quiet

expect_exit 0 "export the averaged model" -- "$DPPF" export run/checkpoint.bin avg.safetensors
expect_output "-> avg.safetensors: 21 tensors" "export summary"
grep -aq '"bn1.num_batches_tracked":{"dtype":"I64","shape":\[\]' avg.safetensors &&
  pass "num_batches_tracked is an I64 scalar" || fail "no I64 bn1.num_batches_tracked in the header"
grep -aq '"model.arch":"cnn"' avg.safetensors && grep -aq '"dppf_version":"' avg.safetensors &&
  grep -aq '"step":"8"' avg.safetensors && pass "metadata: arch, version, step" || fail "metadata missing"
ls avg.safetensors.tmp.* >/dev/null 2>&1 && fail "temporary file left behind" || pass "no temporary file left"

# Re-import: every worker holds the model, so eval gives the original's numbers exactly.
expect_exit 0 "import it" -- "$DPPF" import avg.safetensors --spec run/spec.yaml --set run.out_dir=fromavg --out init.bin
expect_output "step 0, 2 workers" "import summary"
"$DPPF" eval --checkpoint run/checkpoint.bin --csv > a.csv 2>&1
"$DPPF" eval --checkpoint init.bin --csv > b.csv 2>&1
a=$(tail -n 1 a.csv | cut -d, -f4-7); b=$(tail -n 1 b.csv | cut -d, -f4-7)
[ -n "$a" ] && [ "$a" = "$b" ] && pass "imported checkpoint evaluates as the original ($b)" || fail "eval differs: $a vs $b"
tail -n 1 b.csv | grep -q '^init.bin,0,2,' && pass "imported checkpoint: step 0, 2 workers" || fail "$(cat b.csv)"
"$DPPF" eval --checkpoint run/checkpoint.bin --predictions p1.csv > /dev/null 2>&1
"$DPPF" eval --checkpoint init.bin --predictions p2.csv > /dev/null 2>&1
[ "$(wc -l < p1.csv)" = 129 ] && head -n 1 p1.csv | grep -q '^index,label,pred,logit0,' && cmp -s p1.csv p2.csv &&
  pass "same per-sample logits (--predictions)" || fail "predictions differ or malformed"
expect_exit 0 "re-export of the import" -- "$DPPF" export init.bin again.safetensors
# The F32 data sits at the end (num_batches_tracked and the metadata say step 0 now).
cmp -s <(tail -c 15000 avg.safetensors) <(tail -c 15000 again.safetensors) && pass "re-exported tensor data identical" || fail "re-export differs"
expect_exit 0 "sharpness accepts the import" -- "$DPPF" sharpness init.bin --measures sam --samples 64
expect_exit 0 "training resumes from the import" -- "$DPPF" train --resume init.bin --set optim.epochs=2 --quiet
first=$(sed -n 2p fromavg/metrics.csv | cut -d, -f2)
[ "$first" = 8 ] && pass "resumed run starts at step 0 (first row at step $first)" || fail "first row at step '$first'"

# One worker, and all of them.
expect_exit 0 "export worker 1" -- "$DPPF" export run/checkpoint.bin w1.safetensors --worker 1
cmp -s avg.safetensors w1.safetensors && fail "worker 1 equals the average" || pass "worker 1 differs from the average"
grep -aq '"exported":"worker 1"' w1.safetensors && pass "worker export says so" || fail "no exported=worker 1"
expect_exit 0 "export every worker" -- "$DPPF" export run/checkpoint.bin all.safetensors --all-workers
expect_output "63 tensors" "average + 2 workers = 63 tensors"
grep -aq '"worker1.fc1_bn.running_var"' all.safetensors &&
  grep -aq '"fc1_bn.running_var"' all.safetensors && pass "worker<i>. prefixes" || fail "prefixed names missing"
expect_exit 2 "worker out of range" -- "$DPPF" export run/checkpoint.bin x.safetensors --worker 2
expect_output "workers 0..1" "range named"
expect_exit 2 "--worker with --all-workers" -- "$DPPF" export run/checkpoint.bin x.safetensors --worker 0 --all-workers
expect_exit 2 "export without output" -- "$DPPF" export run/checkpoint.bin
expect_exit 3 "export of a missing checkpoint" -- "$DPPF" export nothing.bin x.safetensors
expect_exit 3 "export into a missing folder" -- "$DPPF" export run/checkpoint.bin no/dir/x.safetensors
expect_output "no/dir/x.safetensors" "unwritable output named"

# Import errors: each mismatch listed, corrupt files named.
expect_exit 2 "import into a different model" -- "$DPPF" import avg.safetensors --spec run/spec.yaml --set model.fc=8 --out x.bin
expect_output "mismatched: fc1.weight \[16, 392\] \(model: \[8, 392\]\)" "mis-shaped tensor listed with both shapes"
expect_exit 2 "import with extra tensors" -- "$DPPF" import all.safetensors --spec run/spec.yaml --out x.bin
expect_output "42 unexpected: worker0.conv1.weight" "extra tensors listed"
expect_exit 2 "import into a deeper model" -- "$DPPF" import avg.safetensors --spec run/spec.yaml --set model.widths=[4,8,8] --out x.bin
expect_output "missing: conv3.weight \[8, 8, 3, 3\]" "missing tensor listed"
[ -e x.bin ] && fail "x.bin written despite errors" || pass "nothing written on error"
head -c 3000 avg.safetensors > short.safetensors
expect_exit 3 "truncated file" -- "$DPPF" import short.safetensors --spec run/spec.yaml --out x.bin
expect_output "short.safetensors" "truncated file named"
expect_exit 3 "a checkpoint is not a safetensors file" -- "$DPPF" import run/checkpoint.bin --spec run/spec.yaml --out x.bin
expect_output "run/checkpoint.bin" "wrong file named"
expect_exit 3 "missing file" -- "$DPPF" import nothing.safetensors --spec run/spec.yaml --out x.bin
expect_exit 2 "import without --spec" -- "$DPPF" import avg.safetensors --out x.bin
expect_exit 2 "import without --out" -- "$DPPF" import avg.safetensors --spec run/spec.yaml

# The torch side: exported files load into the reference torch models
# (load_state_dict strict) and predict what dppf predicts; torch-initialised
# models imported into dppf predict what torch predicts.
# find_spec looks for torch without the seconds that importing it takes.
if ! /usr/bin/python3 -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)" >/dev/null 2>&1; then
  echo "skip: PyTorch check (/usr/bin/python3 cannot import torch; apt install python3-torch)"
elif ! have_fashion_mnist; then
  echo "skip: PyTorch check (Fashion-MNIST not installed: dataset-fashion-mnist)"
else
  # The first samples as plain IDX files: every command loads them in no time.
  be32() { printf "\\x$(printf %02x $(($1>>24&255)))\\x$(printf %02x $(($1>>16&255)))\\x$(printf %02x $(($1>>8&255)))\\x$(printf %02x $(($1&255)))"; }
  idx_head() { # NAME N HEADER_BYTES ITEM_BYTES
    zcat "/usr/share/datasets/fashion-mnist/$1.gz" 2>/dev/null | head -c $(($3 + $2 * $4)) > fm/part
    { head -c 4 fm/part; be32 "$2"; tail -c +9 fm/part; } > "fm/$1"
  }
  mkdir -p fm
  idx_head train-images-idx3-ubyte 512 16 784; idx_head train-labels-idx1-ubyte 512 8 1
  idx_head t10k-images-idx3-ubyte 256 16 784; idx_head t10k-labels-idx1-ubyte 256 8 1
  export DPPF_FASHION_MNIST=$WORK/fm
  FM="--set data.path=$WORK/fm --set optim.batch_size=64 --set optim.epochs=1 --quiet"
  # name arch options: every family, small; resize_pad 2 gives the 32x32 of the CIFAR models.
  archs=("cnn cnn --set model.widths=[8,16] --set model.fc=32" "resnet8 resnet8 --set model.base_width=4"
         "mlp mlp --set model.hidden=[64,32]"
         "resnet18 resnet18 --set model.base_width=4 --set data.resize_pad=2"
         "preresnet8 preresnet8 --set model.base_width=4"
         "pyramid pyramidnet --set model.depth=8 --set model.alpha=6 --set model.base_width=4 --set data.resize_pad=2"
         "pyramidb pyramidnet --set model.depth=11 --set model.alpha=6 --set model.base_width=4 --set model.block=bottleneck"
         "wrn wrn --set model.depth=10 --set model.widen=1 --set model.base_width=4 --set model.block_dropout=0.3"
         "vgg16 vgg16 --set model.base_width=4 --set data.resize_pad=2")
  writes=() checks=()
  for arch in "${archs[@]}"; do
    set -- $arch; name=$1 model=$2; shift 2
    expect_exit 0 "$name: train on Fashion-MNIST" -- "$DPPF" train base.yaml --set model.arch=$model "$@" $FM --set run.out_dir=fm_$name
    expect_exit 0 "$name: export" -- "$DPPF" export fm_$name/checkpoint.bin fm_$name.safetensors
    expect_exit 0 "$name: dppf predictions" -- "$DPPF" eval --checkpoint fm_$name/checkpoint.bin --predictions fm_$name.csv
    writes+=(t_$name.safetensors fm_$name.safetensors 5)
    checks+=(fm_$name.safetensors fm_$name.csv t_$name.safetensors t_$name.csv)
  done
  expect_exit 0 "torch-initialised models" -- /usr/bin/python3 "$SRC/tests/torch_check_export.py" write "${writes[@]}"
  for arch in "${archs[@]}"; do
    name=${arch%% *}
    expect_exit 0 "$name: import the torch model" -- "$DPPF" import t_$name.safetensors --spec fm_$name/spec.yaml --out t_$name.bin
    expect_exit 0 "$name: dppf predictions of the import" -- "$DPPF" eval --checkpoint t_$name.bin --predictions t_$name.csv
  done
  expect_exit 0 "torch and dppf agree on every model" -- /usr/bin/python3 "$SRC/tests/torch_check_export.py" check "${checks[@]}"
  sed 's/^/    /' "$WORK/out"
  n=$((2 * ${#archs[@]}))
  [ "$(grep -c '^ok ' "$WORK/out")" = $n ] && pass "$n models checked in torch" || fail "not every model was checked"
fi
finish
