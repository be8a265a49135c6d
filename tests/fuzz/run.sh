#!/usr/bin/env bash
# Builds the libFuzzer harnesses in build-fuzz/ and runs each for SECONDS
# (default 20), one after the other, starting from the seed corpus in
# tests/fuzz/corpus/<harness>/ (read only; new inputs go to
# build-fuzz/corpus/<harness>/). Exits non-zero on the first crash, leak,
# timeout (> 10 s for one input) or OOM (> 2 GB); the input that caused it is
# saved as build-fuzz/artifacts/<harness>-crash-*, -leak-*, -timeout-*, -oom-*.
#   tests/fuzz/run.sh [SECONDS] [HARNESS...]      e.g. run.sh 3600, run.sh 60 fuzz_spec
# Reproduce a finding: build-fuzz/tests/fuzz/<harness> <artifact>
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
shift || true

CC=${DPPF_FUZZ_CC:-}  # not $CC: a CI setting CC=gcc must not break this build
if [ -z "$CC" ]; then
  CC=$(command -v clang-14 || command -v clang || true)
  [ -n "$CC" ] || { echo "fuzz: needs clang (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }
fi
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDPPF_FUZZ=ON >/dev/null
cmake --build build-fuzz -j 2 >/dev/null

if [ $# -eq 0 ]; then
  set -- $(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
fi
mkdir -p build-fuzz/artifacts
for h in "$@"; do
  [ -x "build-fuzz/tests/fuzz/$h" ] || { echo "fuzz: no harness '$h'" >&2; exit 2; }
  mkdir -p "build-fuzz/corpus/$h"
  dict=()
  [ -f "tests/fuzz/$h.dict" ] && dict=("-dict=tests/fuzz/$h.dict")
  echo "fuzz: $h for ${seconds}s"
  # Only the summary on success; the whole log when something was found.
  log="build-fuzz/$h.log"
  if ! "build-fuzz/tests/fuzz/$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$h-" "${dict[@]}" \
       "build-fuzz/corpus/$h" "tests/fuzz/corpus/$h" > "$log" 2>&1; then
    cat "$log" >&2
    echo "fuzz: $h FAILED; input saved in build-fuzz/artifacts/ (see above)" >&2
    exit 1
  fi
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss)' "$log" | tr '\n' ' '
  echo
done
