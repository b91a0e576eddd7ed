// 4-bit NormalFloat (NF4) weights for frozen projections (QLoRA, Dettmers et al. 2023), private to
// models/ (includes torch).
//
// Code values: the 16 NF4 values are quantiles of the standard normal N(0, 1), computed here from
// its quantile function (nf4.cpp inverts the normal CDF; no table is copied). To have an exact zero
// and use all 16 codes, the paper takes 2^(k-1) = 8 quantiles for the positive half and 7 for the
// negative half, plus 0: positive q_i = Phi^-1(p_i) with p_i evenly spaced from `offset` down to 0.5
// in 8 steps (0.5 itself excluded), negative -Phi^-1(p_j) with p_j evenly spaced from `offset` to
// 0.5 in 7 steps, all divided by Phi^-1(offset) so that the extremes are -1 and +1. The paper's
// quantiles of the ends are infinite; `offset` = mean of 1 - 1/(2*15) and 1 - 1/(2*16) = 0.9677083
// (the midpoint of the outer quantile probabilities of a 15- and a 16-value map) keeps them finite.
// Sorted: code 0 = -1, code 7 = 0, code 15 = +1.
//
// Quantisation: the weight is flattened row-major and cut into blocks of 64 values (the last block
// may be shorter). Per block absmax = max |w|; each value w is stored as the index of the code value
// nearest to w / absmax (ties to the lower index; a block of zeros keeps absmax 0 and code 7).
// Two codes per byte: element 2i in the high nibble, element 2i+1 in the low nibble (the layout of
// bitsandbytes); an odd element count pads the last low nibble with code 7.
// Dequantisation: w' = code_value[code] * absmax of its block. |w - w'| <= absmax * (half the largest
// gap between neighbouring codes, the one between -1 and -0.696) = 0.1519 * absmax; values that are
// code x absmax (one of them +-1 x absmax, so absmax is recovered) round-trip exactly.
//
// Double quantisation (optional, the paper's Sec. 3): the per-block absmax values (float32, 4 bytes
// per 64 weights = 0.5 bit per weight) are themselves quantised: their mean m is subtracted (they are
// all >= 0, so centring halves the range), then blocks of 256 of them are stored as int8 with a
// float32 scale s = max |absmax - m| per block: c = round((absmax - m) / s * 127) in [-127, 127],
// absmax' = c / 127 * s + m, so |absmax - absmax'| <= s / 254. c is kept as the byte c + 128 (uint8,
// a dtype safetensors and bert_state() store). The paper uses an 8-bit float code for this second
// level; symmetric linear int8 costs the same memory (8 bits + a float32 per 256) and has the smaller
// worst-case error on these centred, roughly uniform values. Storage drops from 4.5 to ~4.127 bits
// per weight.
//
// Memory: only the packed codes, the absmax values (or their int8 codes, scales and mean) and the
// float32 bias are stored; no float32 copy of the weight is kept anywhere in the module. forward()
// dequantises into a temporary: without autograd into a per-thread scratch buffer reused by every
// NF4 projection (one float32 weight of the largest size per thread), multiplied on the CPU through
// oneDNN reading that buffer in place (packed_linear.h: linear_unpacked); with autograd, a custom
// autograd function that keeps only references to the packed buffers and dequantises again in the
// backward pass, so training never holds dequantised weights between forward and backward. On the
// CPU dequantisation uses a 16-entry table lookup (AVX-512 permute when the CPU has it, else a
// 256-entry byte -> two floats table), parallel over blocks; on other devices tensor operations.
#pragma once

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

#include "bert.h"

namespace opsbench::models {

constexpr std::int64_t kNf4BlockSize = 64;
constexpr std::int64_t kNf4AbsmaxBlockSize = 256;  // second-level blocks (double quantisation)
constexpr int kNf4ZeroCode = 7;

// The 16 code values, ascending, as float32 (computed once, in double, then rounded).
const std::array<float, 16>& nf4_code_values();
// The same in double precision (before rounding to float), for tests of the definition.
std::array<double, 16> nf4_code_values_double();

// A quantised tensor. Holds torch tensors (CPU or any device, moved with the owning module).
struct Nf4Tensor {
  std::vector<std::int64_t> shape;
  std::int64_t numel = 0;
  torch::Tensor codes;  // uint8 [(numel + 1) / 2]
  // Without double quantisation: absmax float32 [blocks]. With: absmax_codes uint8 [blocks] (c + 128),
  // absmax_scale float32 [ceil(blocks / 256)], absmax_mean float32 [1]; absmax undefined.
  torch::Tensor absmax;
  torch::Tensor absmax_codes, absmax_scale, absmax_mean;

  bool double_quantised() const { return absmax_codes.defined(); }
  std::int64_t blocks() const { return (numel + kNf4BlockSize - 1) / kNf4BlockSize; }
  std::int64_t storage_bytes() const;  // bytes of the tensors above
  // The per-block absmax as float32 [blocks] (dequantised when double-quantised).
  torch::Tensor block_absmax() const;
};

// Quantises a float tensor (any shape, at least one element; converted to float32 and to the CPU for
// quantisation, the result is put back on the input's device). ModelError naming the flat index of
// the first non-finite value, or for an empty tensor.
Nf4Tensor nf4_quantize(const torch::Tensor& weight, bool double_quant = false);
// float32 tensor of the original shape, on the codes' device.
torch::Tensor nf4_dequantize(const Nf4Tensor& q);
// CPU only: writes the numel float32 values into `out` (table lookup, parallel over blocks).
// allow_simd false forces the portable lookup (tests compare both; the results are identical).
void nf4_dequantize_into(const Nf4Tensor& q, float* out, bool allow_simd = true);
// The device-independent reference (tensor operations); nf4_dequantize uses it off the CPU.
torch::Tensor nf4_dequantize_reference(const Nf4Tensor& q);

// A frozen linear map whose weight [out, in] is stored as NF4. Registered buffers (names as saved):
// `weight_codes`, `weight_absmax` or (double quantisation) `weight_absmax_codes`,
// `weight_absmax_scale`, `weight_absmax_mean`; parameter `bias` (float32, requires_grad false)
// when the source had one. Gradients flow to the input only.
class Nf4ProjectionImpl : public ProjectionImpl {
 public:
  // weight float [out, in], bias [out] or undefined. Quantises; keeps no float copy of the weight.
  Nf4ProjectionImpl(const torch::Tensor& weight, const torch::Tensor& bias, bool double_quant = false);
  // Quantises any projection's effective weight and bias (dense, a merged LoRA, another NF4).
  static std::shared_ptr<Nf4ProjectionImpl> from_projection(const ProjectionImpl& source, bool double_quant = false);

  torch::Tensor forward(const torch::Tensor& x) override;
  // Inference with a low-rank update folded in: linear(x, W + scale * B A, bias) with B [out, r],
  // A [r, in]. The update is added to the dequantised scratch weight (one small GEMM), which costs
  // less than applying the adapter to the activations. Requires autograd off (ModelError otherwise);
  // LoraProjection's inference path for an NF4 base.
  torch::Tensor forward_with_update(const torch::Tensor& x, const torch::Tensor& b, const torch::Tensor& a,
                                    double scale);
  std::int64_t in_features() const override { return in_; }
  std::int64_t out_features() const override { return out_; }
  torch::Tensor effective_weight() const override;  // dequantised, float32 [out, in]
  torch::Tensor effective_bias() const override;
  std::unique_ptr<WeightRowWriter> weight_rows(float scale) const override;  // dequantises rows
  bool double_quantised() const { return double_quant_; }

  // The quantised weight as a view of the registered buffers (follows the module's device).
  Nf4Tensor quantised_weight() const;
  // Bytes of the stored weight (codes + absmax data) per weight element: 0.5625 without double
  // quantisation, ~0.516 with it (float32: 4). The bias is not included.
  double bytes_per_element() const;
  // Bytes of all parameters and buffers of this module (weight storage + bias).
  std::int64_t storage_bytes() const;

  // Gradient capture for |weight x gradient| neuron importance (pruning.h). While on, every backward
  // pass through forward() adds, for the batch's weight gradient G = dL/dW (computed from the saved
  // input and the output gradient; W itself stays frozen), sum over columns of |W * G| to
  // captured_row_importance() [out] and sum over rows to captured_col_importance() [in], and
  // increments captured_steps(). set_capture(true) resets them; the saved input costs memory while on.
  void set_capture(bool on);
  bool capturing() const { return capture_; }
  torch::Tensor captured_row_importance() const { return row_importance_; }
  torch::Tensor captured_col_importance() const { return col_importance_; }
  std::int64_t captured_steps() const;

 private:
  std::int64_t in_ = 0, out_ = 0;
  bool double_quant_ = false;
  torch::Tensor codes_, absmax_, absmax_codes_, absmax_scale_, absmax_mean_;
  torch::Tensor bias_;
  bool capture_ = false;
  torch::Tensor row_importance_, col_importance_, capture_steps_;
};
using Nf4Projection = std::shared_ptr<Nf4ProjectionImpl>;

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
