# Helpers for the command-line tests (sourced; not a test itself).
# usage in a test: source "$(dirname "$0")/cli_lib.sh" "$@"
DPPF=${1:?usage: $0 DPPF_BINARY SOURCE_DIR}
SRC=${2:?usage: $0 DPPF_BINARY SOURCE_DIR}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dppf-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
: > base.yaml  # an empty spec: all defaults, tests set what they need with --set
PASSED=0
FAILED=0

fail() { echo "FAIL: $*" >&2; FAILED=$((FAILED + 1)); }
pass() { echo "ok: $*"; PASSED=$((PASSED + 1)); }

# expect_exit CODE DESCRIPTION -- command...   (stdout+stderr in $WORK/out)
expect_exit() {
  local want=$1 what=$2; shift 3
  "$@" >"$WORK/out" 2>&1
  local got=$?
  if [ "$got" -eq "$want" ]; then pass "$what (exit $got)"; else fail "$what: exit $got, expected $want"; sed 's/^/    /' "$WORK/out" >&2; fi
}

# expect_output PATTERN DESCRIPTION  (grep -E on the last command's output)
expect_output() {
  if grep -qE -- "$1" "$WORK/out"; then pass "$2"; else fail "$2: output lacks /$1/"; sed 's/^/    /' "$WORK/out" >&2; fi
}

# mpirun as the tests use it: as root, more ranks than cores, shared memory;
# and no LeakSanitizer in the ranks of a sanitizer build (Open MPI's run-time
# leaves allocations it cannot attribute; every non-MPI run keeps it).
MPIRUN="mpirun --allow-run-as-root --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none -x ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

have_fashion_mnist() { [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; }

# The metrics without the timing columns (samples_per_s, wall_s).
metrics_no_timing() { cut -d, -f1-7,10- "$1"; }

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# csv_close A B RELTOL COLUMNS DESCRIPTION: the listed columns (comma-separated
# numbers) agree row by row within a relative tolerance; same number of rows.
csv_close() {
  if awk -F, -v tol="$3" -v cols="$4" '
      NR == FNR { a[FNR] = $0; n = FNR; next }
      FNR == 1 { m = 0; next }
      { m = FNR; split(a[FNR], x, ","); k = split(cols, c, ",")
        for (i = 1; i <= k; i++) { u = x[c[i]] + 0; v = $(c[i]) + 0; d = u - v; if (d < 0) d = -d
          s = (u < 0 ? -u : u); t = (v < 0 ? -v : v); if (t > s) s = t; if (s < 1e-12) s = 1e-12
          if (d / s > tol) { printf "row %d column %d: %s vs %s\n", FNR, c[i], u, v; bad = 1 } } }
      END { if (m != n) { print "row counts differ"; bad = 1 }; exit bad }' "$1" "$2" >"$WORK/out" 2>&1; then
    pass "$5"
  else
    fail "$5"; sed 's/^/    /' "$WORK/out" >&2
  fi
}
