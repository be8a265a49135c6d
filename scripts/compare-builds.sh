#!/usr/bin/env bash
# Do two builds of dppf train to the same numbers? Runs one matrix of short
# runs (every algorithm, periodic checkpoints, a resume, one process and 2 MPI
# ranks) with each binary and compares metrics.csv (timing columns aside) and
# every checkpoint byte for byte. For refactors and performance work that must
# not change results:
#
#   git worktree add /tmp/old <commit> && (cd /tmp/old && scripts/build.sh)
#   scripts/compare-builds.sh /tmp/old/build/dppf build/dppf [WORKDIR]
#
# Checkpoints embed the resolved spec, so a build that adds spec keys changes
# them: COMPARE_SKIP_CKPT=1 then compares every checkpoint field but the spec.
# wall_seconds (and so the CRC) differ between any two runs and are skipped.
# metrics.csv is compared on the old build's columns (new builds only append).
# Exit 0 when everything matches.
set -euo pipefail
old=$(readlink -f "$1") new=$(readlink -f "$2")
work=${3:-$(mktemp -d)}
src=$(cd "$(dirname "$0")/.." && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
common=(--set data.train_subset=4096 --set data.test_subset=1000 --set optim.epochs=2
        --set run.checkpoint_every=1 --set run.eval_every=0.5 --quiet)
cases=(
  "dppf|configs/quickstart.yaml"
  "ddp|configs/ddp.yaml"
  "localsgd|configs/localsgd.yaml --set dist.post_local=0.5 --set dist.momentum_sync=average"
  "easgd|configs/easgd.yaml --set dist.momentum_sync=reset"
  "qsr|configs/qsr.yaml"
  "dppf-inv|configs/dppf.yaml --set dist.push_form=inverse --set dist.push_warmup=1"
  "mlp|configs/mlp-smoke.yaml --set model.dropout=0.2 --set optim.label_smoothing=0.1 --set dist.workers=2 --set dist.algorithm=localsgd --set dist.tau=3"
  "resnet8|configs/resnet20.yaml --set model.arch=resnet8 --set dist.workers=2 --set dist.algorithm=dppf --set dist.tau=2"
  "preresnet8|configs/resnet20.yaml --set model.arch=preresnet8 --set dist.workers=2 --set dist.algorithm=localsgd --set dist.tau=2"
)
run() { # bin tag config [--set ...]: one process, 2 ranks, and a resume from epoch 1
  local bin=$1 tag=$2 cfg=$3; shift 3
  rm -rf "${work:?}/$tag"; mkdir -p "$work/$tag"
  # relative out_dirs: the resolved spec (stored in checkpoints) is the same for both builds
  (cd "$work/$tag"
   "$bin" train "$src/$cfg" "$@" "${common[@]}" --set run.out_dir=p1 >/dev/null
   mpirun -np 2 "$bin" train "$src/$cfg" "$@" "${common[@]}" --set run.out_dir=p2 >/dev/null
   cp p1/checkpoint-e1.bin start.bin
   "$bin" train --resume start.bin --set run.out_dir=r1 --quiet >/dev/null)
}
strip_timing() { # REF FILE: FILE's columns that REF has too, by name, without the timing
  # columns samples_per_s, wall_s and modeled_time_s (metrics.csv only appends
  # columns, so a newer build's extra ones are skipped)
  awk -F, 'NR==FNR{if(FNR==1)for(i=1;i<=NF;i++)if($i!="samples_per_s"&&$i!="wall_s"&&$i!="modeled_time_s")want[$i]=1;next}
    FNR==1{for(i=1;i<=NF;i++)keep[i]=($i in want)}
    {s="";for(i=1;i<=NF;i++)if(keep[i])s=s (s==""?"":",") $i;print s}' "$1" "$2"
}
digest() { # MODE FILE: hash of a checkpoint without wall_seconds and the CRC (and the spec: MODE state)
  python3 - "$@" <<'PY'
import struct, sys, hashlib
mode, path = sys.argv[1], sys.argv[2]
b = open(path, 'rb').read()
o = 24 + struct.unpack_from('<Q', b, 16)[0]   # end of the spec text
head = b[:o] if mode == 'full' else b[:16]
print(hashlib.sha256(head + b[o:o + 56] + b[o + 64:-4]).hexdigest())
PY
}
mode=full; [ "${COMPARE_SKIP_CKPT:-0}" = 1 ] && mode=state
fail=0
for c in "${cases[@]}"; do
  name=${c%%|*}
  read -r -a args <<< "${c#*|}"
  run "$old" "old-$name" "${args[@]}"
  run "$new" "new-$name" "${args[@]}"
  for d in p1 p2 r1; do
    a="$work/old-$name/$d" b="$work/new-$name/$d"
    if ! cmp -s <(strip_timing "$a/metrics.csv" "$a/metrics.csv") <(strip_timing "$a/metrics.csv" "$b/metrics.csv"); then
      echo "DIFF $name/$d/metrics.csv"
      diff <(strip_timing "$a/metrics.csv" "$a/metrics.csv") <(strip_timing "$a/metrics.csv" "$b/metrics.csv") | head -4 || true
      fail=1
    fi
    for f in "$a"/checkpoint*.bin; do
      g="$b/$(basename "$f")"
      if [ ! -f "$g" ] || [ "$(digest $mode "$f")" != "$(digest $mode "$g")" ]; then
        echo "DIFF $name/$d/$(basename "$f") ($mode)"; fail=1
      fi
    done
  done
  echo "compared $name (1 process, 2 ranks, resume)"
done
if [ $fail = 0 ]; then echo "compare-builds: identical: $old vs $new"; else echo "compare-builds: DIFFERENT"; fi
exit $fail
