#!/usr/bin/env bash
# Side by side in one run: opsbench's detector benchmarks and scikit-learn's, under the same thread
# and BLAS settings (printed first). Usage: bench/peers/compare_detectors.sh [BUILD_DIR] [REPEATS]
set -euo pipefail
build=${1:-build/release}
repeats=${2:-5}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-$OMP_NUM_THREADS}
echo "OMP_NUM_THREADS=$OMP_NUM_THREADS OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} cores=$(nproc --all)"
echo "== opsbench (median of $repeats)"
"$build/bench/bench_detectors" --benchmark_repetitions="$repeats" --benchmark_report_aggregates_only=true \
  --benchmark_filter='threads:1/' 2>/dev/null | grep -E '_median'
"$build/bench/bench_metrics" --benchmark_repetitions="$repeats" --benchmark_report_aggregates_only=true \
  2>/dev/null | grep -E '_median'
echo "== scikit-learn $(/usr/bin/python3 -c 'import sklearn; print(sklearn.__version__)') (median of $repeats)"
/usr/bin/python3 "$(dirname "$0")/sklearn_detectors.py" --repeats "$repeats"
/usr/bin/python3 "$(dirname "$0")/sklearn_metrics.py" --repeats "$repeats"
echo "== opsbench neighbour detectors (median of $repeats)"
"$build/bench/bench_neighbours" --benchmark_repetitions="$repeats" --benchmark_report_aggregates_only=true \
  2>/dev/null | grep -E '_median'
echo "== scikit-learn neighbours (median of $repeats)"
/usr/bin/python3 "$(dirname "$0")/sklearn_neighbours.py" --repeats "$repeats"
