#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: install dependencies,
# build, run every test with ctest. CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# MPI tests run as root in CI and need more ranks than cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
(cd build && ctest --output-on-failure -j 2 "$@")

# The performance guard (bench/guard.sh, about 45 s; skip with
# DPPF_PERF_GUARD=0): fails if the training step slowed by more than 30%
# relative to this machine's own GEMM peak, against bench/guard-baseline.csv.
if [ "${DPPF_PERF_GUARD:-1}" != 0 ]; then
  bench/guard.sh build/dppf
fi

# The same suite again under AddressSanitizer + UndefinedBehaviorSanitizer
# (skip with DPPF_SANITIZE_TESTS=0).
if [ "${DPPF_SANITIZE_TESTS:-1}" != 0 ]; then
  cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDPPF_SANITIZE=ON >/dev/null
  cmake --build build-sanitize -j "$(nproc)"
  (cd build-sanitize && ctest --output-on-failure -j 2 "$@")
fi

# Each libFuzzer harness for DPPF_FUZZ_SECONDS (default 15; 0 skips), from
# its seed corpus: a crash, leak, hang or OOM fails the suite.
if [ "${DPPF_FUZZ_SECONDS:-15}" != 0 ]; then
  tests/fuzz/run.sh "${DPPF_FUZZ_SECONDS:-15}"
fi
