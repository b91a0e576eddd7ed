// The two elementwise loops of fused Adam with gradient-norm clipping, over raw float arrays
// (private to models/; used by FusedAdam in vae.cpp). No libtorch here.
//
// Why a separate file: an epoch of the Refine VAE on 5k x 2000 runs 20 Adam steps over 6M
// parameters, and written as plain C++ under the project's default flags these loops stay scalar
// (std::sqrt keeps its errno branch; a single double accumulator is a serial chain): about 18% of
// the epoch. This file is compiled with -fno-math-errno (CMakeLists.txt; nothing reads errno) and
// each loop is cloned per instruction set (AVX-512, AVX2/FMA, baseline) and picked at load time.
//
// Determinism: each function's result depends only on its inputs and on the clone the CPU
// selects (the AVX2/AVX-512 clones may contract a multiply-add into one FMA), never on the thread
// count or on how the caller splits the arrays, as long as sum_of_squares is called on the same
// slices. Same build, same CPU, same numbers.
#pragma once

#include <cstdint>

namespace opsbench::models {

// sum over i of double(g[i])^2, accumulated in 16 interleaved double partial sums (element i goes
// to sum i mod 16) that are added in order at the end: the order is fixed by the source, so it
// vectorises without reassociation.
double sum_of_squares(const float* g, std::int64_t n);

struct AdamStepCoefficients {
  float grad_scale = 1.f;  // clipping factor applied to the gradient, min(1, clip / norm)
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float step_size = 0.f;       // lr / (1 - beta1^t)
  float inv_sqrt_bias2 = 1.f;  // 1 / sqrt(1 - beta2^t)
  float eps = 1e-8f;
};

// PyTorch's Adam update (no weight decay, not amsgrad) over n elements, in place:
//   g' = grad_scale g;  m = beta1 m + (1 - beta1) g';  v = beta2 v + (1 - beta2) g'^2;
//   w -= step_size m / (sqrt(v) inv_sqrt_bias2 + eps).
// w, m and v must not overlap g or each other.
void adam_update(float* w, const float* g, float* m, float* v, std::int64_t n, const AdamStepCoefficients& c);

}  // namespace opsbench::models
