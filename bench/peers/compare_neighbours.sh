#!/usr/bin/env bash
# LOF / kNN side by side in one run, opsbench and scikit-learn 1.2.1, at 1 and 2 threads (the same
# OMP_NUM_THREADS / OPENBLAS_NUM_THREADS for scikit-learn, ctx.threads for opsbench).
# Usage: bench/peers/compare_neighbours.sh [BUILD_DIR] [REPEATS]
set -euo pipefail
build=${1:-build/release}
repeats=${2:-3}
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset} cores=$(nproc --all) load=$(cut -d' ' -f1-3 /proc/loadavg)"
for t in 1 2; do
  echo "== threads $t"
  OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t "$build/bench/bench_neighbours" --benchmark_filter="threads:$t/" \
    --benchmark_repetitions="$repeats" --benchmark_report_aggregates_only=true 2>/dev/null | grep -E '_median'
  OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t /usr/bin/python3 "$(dirname "$0")/sklearn_neighbours.py" --repeats "$repeats"
done
