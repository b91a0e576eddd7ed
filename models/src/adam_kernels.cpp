// Fused Adam loops (see adam_kernels.h). Compiled with -fno-math-errno so sqrt vectorises, and with
// -ffp-contract=off so the AVX-512, AVX2 and baseline clones round alike (no fused multiply-adds).
#include "adam_kernels.h"

#include <cmath>

namespace opsbench::models {

namespace {
constexpr int kLanes = 16;
}

__attribute__((target_clones("avx512f", "arch=haswell", "default"))) double sum_of_squares(const float* g,
                                                                                           std::int64_t n) {
  double partial[kLanes] = {};
  const std::int64_t whole = n - n % kLanes;
  for (std::int64_t i = 0; i < whole; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) {
      const double x = g[i + j];
      partial[j] += x * x;
    }
  }
  for (std::int64_t i = whole; i < n; ++i) {
    const double x = g[i];
    partial[i - whole] += x * x;
  }
  double sum = 0;
  for (double p : partial) sum += p;
  return sum;
}

__attribute__((target_clones("avx512f", "arch=haswell", "default"))) void adam_update(
    float* __restrict w, const float* __restrict g, float* __restrict m, float* __restrict v, std::int64_t n,
    const AdamStepCoefficients& c) {
  const float scale = c.grad_scale, b1 = c.beta1, b2 = c.beta2, one_b1 = 1.f - c.beta1, one_b2 = 1.f - c.beta2;
  const float step = c.step_size, inv_sqrt_bias2 = c.inv_sqrt_bias2, eps = c.eps;
  for (std::int64_t i = 0; i < n; ++i) {
    const float gi = g[i] * scale;
    const float mi = b1 * m[i] + one_b1 * gi;
    const float vi = b2 * v[i] + one_b2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] -= step * mi / (std::sqrt(vi) * inv_sqrt_bias2 + eps);
  }
}

}  // namespace opsbench::models
