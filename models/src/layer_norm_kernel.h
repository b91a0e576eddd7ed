// Layer normalisation over the rows of a float32 matrix, in place (private to models/; used by the
// encoder pass, encoder_pass.h, which normalises each thread's own rows inside its OpenMP region,
// where calling ATen would mean allocating tensors on worker threads).
//
// Contract: for each of `rows` rows of `n` floats at x + r * ld:
//   x <- (x - mean) / sqrt(var + eps) * weight + bias,   var the biased (population) variance,
// as torch.nn.functional.layer_norm. Two passes: a first mean, then the sums of x minus that mean
// (rounded to float) and of its square, each in float over 16 interleaved partials (a fixed order:
// the result depends on n alone, not on threads or the CPU's vector width) combined in double.
// Within 2e-5 of layer norm in double also on rows with a large common offset, where at::layer_norm
// in float loses ~1e-4 (tested).
#pragma once

#include <cstdint>

namespace opsbench::models {

void layer_norm_rows(float* x, std::int64_t rows, std::int64_t ld, std::int64_t n, const float* weight,
                     const float* bias, double eps);

}  // namespace opsbench::models
