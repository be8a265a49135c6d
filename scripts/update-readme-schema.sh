#!/usr/bin/env bash
# Replaces README.md's spec table ("The experiment spec") with the build's
# `dppf schema --md`, so that the documented keys are the binary's.
# tests/cli_docs.sh fails when the two differ.
#   scripts/update-readme-schema.sh [build/dppf]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/dppf}
table=$("$bin" schema --md)
awk -v table="$table" '
  /^\| key \| type \/ range \| default \| meaning \|$/ { print table; skip = 1; next }
  skip && /^\|/ { next }
  { skip = 0; print }' README.md > README.md.tmp
mv README.md.tmp README.md
