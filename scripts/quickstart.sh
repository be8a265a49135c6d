#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: install dependencies, build,
# and train configs/quickstart.yaml on Fashion-MNIST (a few minutes on 2 cores).
# Extra arguments go to `dppf train`, e.g. --set optim.epochs=2.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/dppf train configs/quickstart.yaml --force "$@"
