#!/usr/bin/env bash
# Installs the Debian packages dppf needs to build, test and run (skips those
# already present). Non-interactive; run as root or with sudo available.
set -euo pipefail

PACKAGES=(build-essential cmake pkg-config libopenmpi-dev openmpi-bin libblis-dev libyaml-dev
          libpng-dev zlib1g-dev libcriterion-dev dataset-fashion-mnist
          clang-14 libclang-rt-14-dev  # clang + libFuzzer: the fuzz harnesses (tests/fuzz)
          libcairo2-dev fonts-dejavu-core  # figures: cairo, text in DejaVu Sans
          poppler-utils python3)  # tests: pdfinfo/pdftotext read the PDFs, python3 parses SVG and PNG
# Optional extras, e.g. python3-torch for regenerating fixtures and the PyTorch benchmark:
#   DPPF_EXTRA_PACKAGES="python3-torch" scripts/install-deps.sh
read -r -a EXTRA <<< "${DPPF_EXTRA_PACKAGES:-}"
PACKAGES+=("${EXTRA[@]}")

missing=()
for p in "${PACKAGES[@]}"; do
  [ -n "$p" ] || continue
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
