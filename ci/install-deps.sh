#!/usr/bin/env bash
# Installs opsbench's build and test dependencies from Debian 12 packages.
# Idempotent: packages already installed are skipped, and apt is not touched when nothing is missing.
# Nothing is downloaded from anywhere but Debian's archive.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-pthread libdnnl-dev
  libxgboost-dev xgboost
  libbenchmark-dev catch2
  libcsv-dev zlib1g-dev libsqlite3-dev libssl-dev
  libtomlplusplus-dev libcli11-dev libfmt-dev nlohmann-json3-dev libeigen3-dev libicu-dev
  gnuplot-nox
)
exec bash "$(dirname "$0")/apt-install.sh" install-deps "${packages[@]}"
