#!/usr/bin/env bash
# Installs the Python peers that bench/peers/ and tests/reference/ compare against (Debian 12
# packages: scikit-learn 1.2.1, xgboost 1.7.4, PyTorch 1.13, imbalanced-learn 0.10). Not needed to
# build or test opsbench; idempotent like install-deps.sh.
set -euo pipefail
exec bash "$(dirname "$0")/apt-install.sh" install-peers \
  python3-sklearn python3-xgboost python3-torch python3-imblearn python3-scipy
