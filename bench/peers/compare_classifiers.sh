#!/usr/bin/env bash
# Side by side in one run: opsbench's classifier benchmarks and scikit-learn / python xgboost on the
# same rows (100k x 12, 6 classes), same thread settings (printed first), medians of REPEATS runs.
# Usage: bench/peers/compare_classifiers.sh [BUILD_DIR] [REPEATS] [THREADS]
set -euo pipefail
build=${1:-build/release}
repeats=${2:-3}
threads=${3:-2}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$threads}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
echo "OMP_NUM_THREADS=$OMP_NUM_THREADS OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} threads=$threads cores=$(nproc --all)"
echo "== opsbench (median of $repeats)"
"$build/bench/bench_classifiers" --benchmark_repetitions="$repeats" --benchmark_report_aggregates_only=true \
  --benchmark_filter="threads:$threads/|TreeFit|LogregFit" 2>/dev/null | grep -E '_median'
echo "== peers (median of $repeats)"
/usr/bin/python3 "$(dirname "$0")/sklearn_classifiers.py" --repeats "$repeats" --threads "$threads"
