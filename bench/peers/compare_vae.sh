#!/bin/sh
# VAE epoch 5k x 2000 (batch 256): opsbench (libtorch, bench_vae) against PyTorch eager, run here in
# one invocation under identical thread and BLAS settings.
#   bench/peers/compare_vae.sh [BUILD_DIR]     (default build/release)
# OMP_WAIT_POLICY=passive keeps torch's and OpenBLAS' threads from spinning against each other on
# small machines; OPENBLAS_CORETYPE is inherited as set (record it with the results).
set -eu
build=${1:-build/release}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OMP_WAIT_POLICY=$OMP_WAIT_POLICY OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}"
"$build/bench/bench_vae" --benchmark_format=console 2>&1 | grep -E "BM_|Run on|CPU"
/usr/bin/python3 "$(dirname "$0")/torch_vae_epoch.py" --threads 1 2 --epochs 5
