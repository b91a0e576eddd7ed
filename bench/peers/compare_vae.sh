#!/bin/sh
# VAE epoch 5k x 2000 (batch 256): opsbench (libtorch, bench_vae) against PyTorch eager, run here in
# one invocation under identical thread and BLAS settings.
#   bench/peers/compare_vae.sh [BUILD_DIR] [THREADS...]     (defaults: build/release, 1 2)
# opsbench side: BM_VaeEpoch (the registered `vae` method, float32) and BM_VaeEpochStep (mode 0
# manual float32 step, 1 autograd float32, 2 opt-in bf16 mixed precision). PyTorch side: eager
# float32 (the issue's reference), the same loop under torch.autocast("cpu", bfloat16) (the peer
# of the bf16 mode), and the matrix products of one epoch alone per kernel (--floor).
# OMP_WAIT_POLICY=passive keeps torch's and OpenBLAS' threads from spinning against each other on
# small machines; OPENBLAS_CORETYPE is inherited as set (record it with the results).
set -eu
build=${1:-build/release}
[ $# -gt 0 ] && shift
threads=${*:-1 2}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
# OPENBLAS_NUM_THREADS: torch's thread count does not reach Debian's OpenBLAS (pthreads build), which
# splits each sgemm over every core unless OPENBLAS_NUM_THREADS is set: set it to 1 for a true
# one-core comparison.
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset} OMP_WAIT_POLICY=$OMP_WAIT_POLICY OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}"
/usr/bin/python3 -c "import ctypes; b = ctypes.CDLL('libopenblas.so.0'); b.openblas_get_corename.restype = ctypes.c_char_p; print('OpenBLAS core:', b.openblas_get_corename().decode())"
filter=$(echo "$threads" | sed 's/ /|/g')
"$build/bench/bench_vae" --benchmark_format=console --benchmark_filter="BM_VaeEpoch(Step)?/($filter)(/|\$)" 2>&1 |
  grep -E "BM_|Run on|CPU"
# shellcheck disable=SC2086
/usr/bin/python3 "$(dirname "$0")/torch_vae_epoch.py" --threads $threads --epochs 5 --modes eager autocast-bf16 --floor
