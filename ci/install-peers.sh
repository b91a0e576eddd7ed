#!/usr/bin/env bash
# Installs the Python peers that bench/peers/ and tests/reference/ compare against (Debian 12
# packages: scikit-learn 1.2.1, xgboost 1.7.4, PyTorch 1.13, imbalanced-learn 0.10). Not needed to
# build or test opsbench; idempotent like install-deps.sh.
set -euo pipefail

packages=(python3-sklearn python3-xgboost python3-torch python3-imblearn python3-scipy)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-peers: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-peers: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
