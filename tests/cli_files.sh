# Inputs that are not regular files: every command that reads a file must
# refuse a FIFO at once (opening one normally waits for a writer, forever)
# with exit 3 and a message naming the file, and a symbolic link loop must be
# called that, not "No such file". `timeout 20` turns a hang into exit 124.
source "$(dirname "$0")/clilib.sh" "$@"

mkfifo fifo fifo.yaml
# expect_refused DESCRIPTION PATTERN -- command...: exit 3 at once, output matches PATTERN
expect_refused() {
  local what=$1 pattern=$2; shift 3
  expect_exit 3 "$what" -- timeout 20 "$@"
  expect_output "$pattern" "$what: the message names the file and says why"
}

expect_refused "eval --checkpoint FIFO" "checkpoint 'fifo'.*FIFO" -- "$DPPF" eval --checkpoint fifo
expect_refused "sharpness FIFO" "checkpoint 'fifo'.*FIFO" -- "$DPPF" sharpness fifo
expect_refused "train --resume FIFO" "checkpoint 'fifo'.*FIFO" -- "$DPPF" train --resume fifo
expect_refused "import FIFO" "'fifo'.*FIFO" -- "$DPPF" import fifo --spec base.yaml --out imported.bin
[ ! -e imported.bin ] && pass "import wrote nothing" || fail "import wrote imported.bin"
expect_refused "plot FIFO" "'fifo'.*FIFO" -- "$DPPF" plot fifo -o plot.png
expect_refused "train FIFO.yaml" "spec file 'fifo\.yaml'.*FIFO" -- "$DPPF" train fifo.yaml
expect_refused "a folder as the spec" "spec file '\.'.*folder" -- "$DPPF" train .

# Dataset folders of links to the real files (empty stand-ins when
# Fashion-MNIST is not installed: the odd file is the first one opened).
data_folder() {  # DIR: all four files, as links or stand-ins
  mkdir -p "$1"
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    if have_fashion_mnist; then ln -s /usr/share/datasets/fashion-mnist/$f.gz "$1/$f.gz"; else : > "$1/$f.gz"; fi
  done
}
FM="--set data.dataset=fashion-mnist --set optim.epochs=1 --quiet"
data_folder dfifo
rm dfifo/train-images-idx3-ubyte.gz && mkfifo dfifo/train-images-idx3-ubyte.gz
expect_refused "a dataset file that is a FIFO" "'dfifo/train-images-idx3-ubyte\.gz'.*FIFO" -- \
  "$DPPF" train base.yaml $FM --set data.path=dfifo --set run.out_dir=rfifo
data_folder dloop
rm dloop/train-images-idx3-ubyte.gz
ln -s loop-b dloop/loop-a && ln -s loop-a dloop/loop-b && ln -s loop-a dloop/train-images-idx3-ubyte.gz
expect_refused "a dataset file that is a symbolic link loop" "'dloop/train-images-idx3-ubyte\.gz'.*symbolic link loop" -- \
  "$DPPF" train base.yaml $FM --set data.path=dloop --set run.out_dir=rloop
if grep -q "No such file" "$WORK/out"; then fail "the link loop is reported as a missing file"; else pass "the link loop is not called a missing file"; fi

# CIFAR-10 batches go through the same check.
mkdir cifar && for k in 1 2 3 4 5; do : > cifar/data_batch_$k.bin; done && : > cifar/test_batch.bin
rm cifar/data_batch_1.bin && mkfifo cifar/data_batch_1.bin
expect_refused "a CIFAR-10 batch that is a FIFO" "'cifar/data_batch_1\.bin'.*FIFO" -- \
  "$DPPF" train base.yaml --set data.dataset=cifar10 --set data.path=cifar --set run.out_dir=rcifar --quiet
finish
