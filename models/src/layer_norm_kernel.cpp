// layer_norm_rows (see layer_norm_kernel.h). Compiled like adam_kernels.cpp: one clone per vector
// width, the partial sums in a fixed order so every clone gives the same bits.
#include "layer_norm_kernel.h"

#include <algorithm>
#include <cmath>

namespace opsbench::models {

namespace {

constexpr int kPartials = 16;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define OPSBENCH_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define OPSBENCH_CLONES
#endif

// Sum of (x[i] - shift) and of its square over 16 interleaved partials, combined in double.
OPSBENCH_CLONES void shifted_sums(const float* x, std::int64_t n, float shift, double* sum, double* squares) {
  float s[kPartials] = {}, q[kPartials] = {};
  std::int64_t i = 0;
  for (; i + kPartials <= n; i += kPartials) {
    for (int j = 0; j < kPartials; ++j) {
      const float v = x[i + j] - shift;
      s[j] += v;
      q[j] += v * v;
    }
  }
  for (int j = 0; i < n; ++i, ++j) {
    const float v = x[i] - shift;
    s[j] += v;
    q[j] += v * v;
  }
  double ds = 0, dq = 0;
  for (int j = 0; j < kPartials; ++j) {
    ds += s[j];
    dq += q[j];
  }
  *sum = ds;
  *squares = dq;
}

// x - mean as (x - shift) - offset: x - shift is exact for x near the shift (a rounded mean), so a
// large common offset costs no precision; mean = shift + offset.
OPSBENCH_CLONES void normalise(float* x, std::int64_t n, float shift, float offset, float scale, const float* weight,
                               const float* bias) {
  for (std::int64_t i = 0; i < n; ++i) x[i] = ((x[i] - shift) - offset) * scale * weight[i] + bias[i];
}

}  // namespace

void layer_norm_rows(float* x, std::int64_t rows, std::int64_t ld, std::int64_t n, const float* weight,
                     const float* bias, double eps) {
  if (n <= 0) return;
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = x + r * ld;
    // Two passes: the mean first, then the sums of (x - mean) and its square (the first of which
    // corrects the mean's rounding), so a large common offset does not cancel the variance away.
    double sum = 0, squares = 0;
    shifted_sums(row, n, 0.f, &sum, &squares);
    const float shift = static_cast<float>(sum / static_cast<double>(n));
    shifted_sums(row, n, shift, &sum, &squares);
    const double offset = sum / static_cast<double>(n);
    const double variance = std::max(0.0, squares / static_cast<double>(n) - offset * offset);
    normalise(row, n, shift, static_cast<float>(offset), static_cast<float>(1.0 / std::sqrt(variance + eps)), weight,
              bias);
  }
}

}  // namespace opsbench::models
