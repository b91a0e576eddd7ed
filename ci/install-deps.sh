#!/usr/bin/env bash
# Installs opsbench's build and test dependencies from Debian 12 packages.
# Idempotent: packages already installed are skipped, and apt is not touched when nothing is missing.
# Nothing is downloaded from anywhere but Debian's archive.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-pthread
  libxgboost-dev xgboost
  libbenchmark-dev catch2
  libcsv-dev zlib1g-dev libsqlite3-dev libssl-dev
  libtomlplusplus-dev libcli11-dev libfmt-dev nlohmann-json3-dev libeigen3-dev
  gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
