# The methods added to the first five (dppf's per-step and adaptive forces,
# lsgd, mgrawa, lgrawa, slowmo, diloco, SAM, the EMA of the averaged model):
# M = 4 workers give the same metrics.csv on 1 process and on 2 and 4 MPI
# ranks, bit for bit; and the stateful ones resume bit for bit, from a
# checkpoint in the middle of a sync period written by 2 ranks and resumed
# by 1 process (lsgd's per-worker losses must reach rank 0 before it saves).
source "$(dirname "$0")/clilib.sh" "$@"
command -v mpirun >/dev/null || { echo "skip: no mpirun"; finish; exit; }
# 8 steps an epoch, tau 3: the epoch-1 checkpoint falls 2 steps into a period.
SYN="--set data.dataset=synthetic --set data.train_size=512 --set data.test_size=128 --set data.crop_pad=2 --set model.arch=cnn --set model.widths=[4,8] --set model.fc=16 --set model.dropout=0.1 --set optim.batch_size=16 --set run.eval_every=0.5 --set dist.workers=4 --set dist.tau=3 --set run.threads=1 --quiet"

same_metrics() { # A B DESCRIPTION: identical metrics, timing columns aside
  if [ -s "$1/metrics.csv" ] && [ -s "$2/metrics.csv" ] && cmp -s <(metrics_no_timing "$1/metrics.csv") <(metrics_no_timing "$2/metrics.csv"); then
    pass "$3"
  else
    fail "$3"; diff <(metrics_no_timing "$1/metrics.csv") <(metrics_no_timing "$2/metrics.csv") | head -n 6 >&2
  fi
}

cases=(
  "dppf-step|--set dist.algorithm=dppf --set dist.pull=0.5 --set dist.push=0.02 --set dist.push_every=step --set dist.pull_every=step --set dist.push_form=inverse --set dist.push_schedule=cosine"
  "dppf-adaptive|--set dist.algorithm=dppf --set dist.pull=0.5 --set dist.push=0.02 --set dist.push_every=step --set dist.target_spread=0.3"
  "lsgd|--set dist.algorithm=lsgd --set dist.lsgd_group=2 --set dist.lsgd_pull=[0.5,0.3]"
  "mgrawa|--set dist.algorithm=mgrawa --set dist.pull=0.5"
  "lgrawa|--set dist.algorithm=lgrawa --set dist.pull=0.7"
  "slowmo|--set dist.algorithm=slowmo --set dist.outer_lr=1.0 --set dist.outer_momentum=0.5"
  "diloco|--set dist.algorithm=diloco --set dist.outer_lr=0.7 --set dist.outer_momentum=0.9 --set dist.outer_nesterov=true"
  "sam-ema|--set dist.algorithm=localsgd --set optim.sam_rho=0.05 --set optim.sam_adaptive=true --set run.ema_decay=0.9"
)
for c in "${cases[@]}"; do
  name=${c%%|*}
  read -r -a args <<< "${c#*|}"
  expect_exit 0 "$name on 1 process" -- "$DPPF" train base.yaml $SYN --set optim.epochs=2 "${args[@]}" --set run.out_dir="$name-1"
  for R in 2 4; do
    # 4 ranks for the methods whose exchange depends on where workers live
    [ "$R" = 4 ] && case $name in lsgd|lgrawa|dppf-adaptive) ;; *) continue ;; esac
    expect_exit 0 "$name on $R ranks" -- timeout 300 $MPIRUN -np $R "$DPPF" train base.yaml $SYN --set optim.epochs=2 "${args[@]}" --set run.out_dir="$name-$R"
    same_metrics "$name-1" "$name-$R" "$name: $R ranks give 1 process's metrics bit for bit"
  done
done
awk -F, 'NR > 1 && $17 == "nan" { bad = 1 } END { exit bad }' sam-ema-1/metrics.csv && pass "the EMA is evaluated" || fail "ema_test_loss is nan with run.ema_decay set"
awk -F, 'NR > 1 && $17 != "nan" { bad = 1 } END { exit bad }' lsgd-1/metrics.csv && pass "no EMA: nan" || fail "ema columns set without run.ema_decay"

# Resume: the run in 1 process and on 2 ranks, both checkpointed after epoch
# 1 (mid-period), in folders of the same relative name so that the stored
# specs agree: the two checkpoints hold the same state (wall time and CRC
# aside), and the 2-rank one, resumed in 1 process, ends as 1 process did.
same_state() { # A B: checkpoints equal but for wall_seconds and the CRC
  python3 - "$1" "$2" <<'PY'
import struct, sys
def strip(path):
    b = open(path, 'rb').read()
    o = 24 + struct.unpack_from('<Q', b, 16)[0]  # end of the spec text
    return b[:o + 56] + b[o + 64:-4]
sys.exit(strip(sys.argv[1]) != strip(sys.argv[2]))
PY
}
for name in lsgd dppf-adaptive slowmo mgrawa sam-ema; do
  for c in "${cases[@]}"; do [ "${c%%|*}" = "$name" ] && read -r -a args <<< "${c#*|}"; done
  mkdir -p "$name-one" "$name-two"
  expect_exit 0 "$name: 1 process, checkpoints" -- sh -c "cd $name-one && \"$DPPF\" train ../base.yaml $SYN --set optim.epochs=3 --set run.checkpoint_every=1 ${args[*]} --set run.out_dir=run"
  expect_exit 0 "$name: 2 ranks, checkpoints" -- sh -c "cd $name-two && timeout 300 $MPIRUN -np 2 \"$DPPF\" train ../base.yaml $SYN --set optim.epochs=3 --set run.checkpoint_every=1 ${args[*]} --set run.out_dir=run"
  same_state "$name-one/run/checkpoint-e1.bin" "$name-two/run/checkpoint-e1.bin" && pass "$name: the mid-period checkpoint of 2 ranks is 1 process's" || fail "$name: checkpoints of 1 process and 2 ranks differ"
  mkdir -p "$name-res" && cp "$name-two/run/checkpoint-e1.bin" "$name-res/" && head -n 3 "$name-two/run/metrics.csv" > "$name-res/metrics.csv"
  expect_exit 0 "$name: resumed in 1 process" -- "$DPPF" train --resume "$name-res/checkpoint-e1.bin" --set run.out_dir="$name-res" --quiet
  same_metrics "$name-one/run" "$name-res" "$name: resumed mid-period across layouts, bit for bit"
done
finish
