// NF4 quantisation and the NF4 projection (see nf4.h).
#ifdef OPSBENCH_HAVE_TORCH

#include "nf4.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "transpose16.h"
#define OPSBENCH_NF4_X86 1
#endif

#include "blocked_weight.h"
#include "opsbench/core/error.h"
#include "packed_linear.h"

namespace opsbench::models {

namespace {

// Phi^-1(p) for p in (0.5, 1) by bisection on Phi(x) = erfc(-x / sqrt 2) / 2: 200 halvings of
// [0, 40] reach the resolution of double, so the codes do not depend on an approximation formula.
double normal_quantile_upper(double p) {
  double lo = 0.0, hi = 40.0;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

// Midpoints between neighbouring codes: the quantiser's decision boundaries.
const std::array<float, 15>& code_midpoints() {
  static const std::array<float, 15> mids = [] {
    const auto& c = nf4_code_values();
    std::array<float, 15> m{};
    for (int i = 0; i < 15; ++i) m[static_cast<std::size_t>(i)] = 0.5f * (c[i] + c[i + 1]);
    return m;
  }();
  return mids;
}

// Index of the nearest code to v in [-1, 1]: the number of boundaries strictly below v, so a value
// exactly on a boundary goes to the lower code.
std::uint8_t nearest_code(float v) {
  const auto& mids = code_midpoints();
  int idx = 0;
  for (float m : mids) idx += m < v ? 1 : 0;
  return static_cast<std::uint8_t>(idx);
}

// byte -> (value of the high nibble, value of the low nibble): the portable lookup.
struct PairTable {
  alignas(64) float v[256][2];
};
const PairTable& pair_table() {
  static const PairTable table = [] {
    PairTable t{};
    const auto& c = nf4_code_values();
    for (int b = 0; b < 256; ++b) {
      t.v[b][0] = c[static_cast<std::size_t>(b >> 4)];
      t.v[b][1] = c[static_cast<std::size_t>(b & 15)];
    }
    return t;
  }();
  return table;
}

// Full 64-value blocks [b0, b1): out[64 b ...] from codes[32 b ...] and absmax[b].
void dequant_full_blocks_portable(const std::uint8_t* codes, const float* absmax, float* out, std::int64_t b0,
                                  std::int64_t b1) {
  const PairTable& t = pair_table();
  for (std::int64_t b = b0; b < b1; ++b) {
    const std::uint8_t* c = codes + b * (kNf4BlockSize / 2);
    float* o = out + b * kNf4BlockSize;
    float tmp[kNf4BlockSize];
    for (int i = 0; i < kNf4BlockSize / 2; ++i) std::memcpy(tmp + 2 * i, t.v[c[i]], 2 * sizeof(float));
    const float s = absmax[b];
    for (int i = 0; i < kNf4BlockSize; ++i) o[i] = tmp[i] * s;
  }
}

#ifdef OPSBENCH_NF4_X86
// AVX-512F: the 16 code values fill one register, so one permute looks up 16 nibbles at once.
// The code values of the 16 elements packed in the 8 bytes at c.
__attribute__((target("avx512f"), always_inline)) inline __m512 code_values16(const std::uint8_t* c, __m512 table) {
  const __m128i bytes = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c)));
  const __m128i hi = _mm_srli_epi16(bytes, 4);
  const __m128i lo = _mm_and_si128(bytes, _mm_set1_epi16(0x0f));
  // element order within a byte: high nibble first
  const __m256i nibbles = _mm256_set_m128i(_mm_unpackhi_epi16(hi, lo), _mm_unpacklo_epi16(hi, lo));
  // The zero-masking forms: GCC 12 flags the unmasked ones' undefined pass-through operand.
  const __m512i idx = _mm512_maskz_cvtepu16_epi32(0xFFFF, nibbles);
  return _mm512_maskz_permutexvar_ps(0xFFFF, idx, table);
}

__attribute__((target("avx512f"))) void dequant_full_blocks_avx512(const std::uint8_t* codes, const float* absmax,
                                                                   float* out, std::int64_t b0, std::int64_t b1) {
  const __m512 table = _mm512_loadu_ps(nf4_code_values().data());
  for (std::int64_t b = b0; b < b1; ++b) {
    const std::uint8_t* c = codes + b * (kNf4BlockSize / 2);
    float* o = out + b * kNf4BlockSize;
    const __m512 s = _mm512_set1_ps(absmax[b]);
    for (int k = 0; k < 4; ++k) {  // 8 bytes -> 16 values per step
      _mm512_storeu_ps(o + 16 * k, _mm512_mul_ps(code_values16(c + 8 * k, table), s));
    }
  }
}

// Rows [begin, begin + rows) of the [*, in] weight, times `scale` (as a second multiplication, the
// bits the row writer gives), straight into one block of a blocked layout with inner blocks of 16
// inputs x `out_block` rows: 16 x 16 tiles dequantised into registers and transposed there. Needs
// in % 16 == 0, so that 16 inputs of a row lie in one NF4 block.
__attribute__((target("avx512f"))) void dequant_packed_avx512(const std::uint8_t* codes, const float* absmax,
                                                              std::int64_t in, std::int64_t begin, std::int64_t rows,
                                                              std::int64_t out_block, std::int64_t in_padded,
                                                              float scale, float* packed_block) {
  const __m512 table = _mm512_loadu_ps(nf4_code_values().data());
  const __m512 s = _mm512_set1_ps(scale);
  for (std::int64_t k0 = 0; k0 < in_padded; k0 += 16) {
    store_tile16(
        out_block, packed_block + k0 * out_block, [&](std::int64_t n) __attribute__((target("avx512f"))) {
          if (n >= rows || k0 >= in) return _mm512_setzero_ps();
          const std::int64_t e = (begin + n) * in + k0;  // flat index of the run's first element
          const __m512 v =
              _mm512_mul_ps(code_values16(codes + e / 2, table), _mm512_set1_ps(absmax[e / kNf4BlockSize]));
          return scale == 1.f ? v : _mm512_mul_ps(v, s);
        });
  }
}

bool have_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}
#endif

void dequant_full_blocks(const std::uint8_t* codes, const float* absmax, float* out, std::int64_t b0, std::int64_t b1,
                         bool allow_simd) {
#ifdef OPSBENCH_NF4_X86
  if (allow_simd && have_avx512()) return dequant_full_blocks_avx512(codes, absmax, out, b0, b1);
#else
  (void)allow_simd;
#endif
  dequant_full_blocks_portable(codes, absmax, out, b0, b1);
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Per-thread scratch for a dequantised weight, grown to the largest weight seen: inference and the
// backward pass reuse it, so no float32 weight outlives the call that needed it.
float* scratch_floats(std::int64_t n) {
  thread_local std::vector<float> scratch;
  if (static_cast<std::int64_t>(scratch.size()) < n) scratch.resize(static_cast<std::size_t>(n));
  return scratch.data();
}

// A float32 view of the dequantised weight in the scratch buffer (CPU) or a fresh tensor.
torch::Tensor dequantize_temporary(const Nf4Tensor& q) {
  if (!q.codes.device().is_cpu()) return nf4_dequantize_reference(q);
  float* p = scratch_floats(q.numel);
  nf4_dequantize_into(q, p);
  return torch::from_blob(p, q.shape, torch::TensorOptions().dtype(torch::kFloat));
}

// x w^T + bias where nothing needs a gradient: on the CPU in float32 through oneDNN reading the
// scratch weight in place (packed_linear.h: faster than OpenBLAS, which would pack it first).
torch::Tensor linear_no_graph(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& bias) {
  const bool bias_needs_grad = bias.defined() && bias.requires_grad() && torch::GradMode::is_enabled();
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat || !w.is_contiguous() || bias_needs_grad) {
    return torch::linear(x, w, bias);
  }
  const std::int64_t in = w.size(1), out = w.size(0);
  const torch::Tensor x2 = x.contiguous().view({-1, in});
  const torch::Tensor b = bias.defined() ? bias.detach().contiguous() : torch::Tensor();
  std::vector<std::int64_t> sizes = x.sizes().vec();
  sizes.back() = out;
  torch::Tensor y = torch::empty(sizes, x.options());
  linear_unpacked(x2.data_ptr<float>(), x2.size(0), in, w.data_ptr<float>(),
                  b.defined() ? b.data_ptr<float>() : nullptr, out, in, y.data_ptr<float>(), out);
  return y;
}

// y = x W^T + b with W dequantised on demand; the backward pass dequantises again for dL/dx and,
// when capturing, accumulates |W * dL/dW| per row and column.
// The frozen parts of a call, passed to the autograd function as one non-tensor argument (tensor
// arguments must be defined, and none of these needs a gradient).
struct Nf4Call {
  Nf4Tensor q;
  torch::Tensor bias;
  bool capture = false;
  torch::Tensor rows, cols, steps;  // capture accumulators
};

struct Nf4Linear : public torch::autograd::Function<Nf4Linear> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const Nf4Call& call) {
    ctx->saved_data["codes"] = call.q.codes;
    ctx->saved_data["absmax"] = call.q.block_absmax();
    ctx->saved_data["shape"] = call.q.shape;
    ctx->saved_data["capture"] = call.capture;
    if (call.capture) {
      ctx->save_for_backward({x});
      ctx->saved_data["rows"] = call.rows;
      ctx->saved_data["cols"] = call.cols;
      ctx->saved_data["steps"] = call.steps;
    }
    return torch::linear(x, dequantize_temporary(call.q), call.bias);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    Nf4Tensor q;
    q.codes = ctx->saved_data["codes"].toTensor();
    q.absmax = ctx->saved_data["absmax"].toTensor();
    q.shape = ctx->saved_data["shape"].toIntVector();
    q.numel = q.shape[0] * q.shape[1];
    const torch::Tensor w = dequantize_temporary(q);
    const torch::Tensor& g = grad_outputs[0];
    torch::Tensor grad_x;
    if (ctx->needs_input_grad(0)) grad_x = g.matmul(w);
    if (ctx->saved_data["capture"].toBool()) {
      const torch::Tensor x = ctx->get_saved_variables()[0];
      const torch::Tensor gw = g.reshape({-1, q.shape[0]}).t().mm(x.reshape({-1, q.shape[1]}));
      const torch::Tensor p = gw.mul_(w).abs_();
      ctx->saved_data["rows"].toTensor().add_(p.sum(1));
      ctx->saved_data["cols"].toTensor().add_(p.sum(0));
      ctx->saved_data["steps"].toTensor().add_(1);
    }
    return {grad_x, torch::Tensor()};
  }
};

}  // namespace

std::array<double, 16> nf4_code_values_double() {
  const double offset = 0.5 * ((1.0 - 1.0 / 30.0) + (1.0 - 1.0 / 32.0));
  std::array<double, 16> v{};
  std::size_t k = 0;
  for (int j = 0; j < 8; ++j) v[k++] = normal_quantile_upper(offset + j * (0.5 - offset) / 8.0);
  for (int j = 0; j < 7; ++j) v[k++] = -normal_quantile_upper(offset + j * (0.5 - offset) / 7.0);
  v[k++] = 0.0;
  const double top = normal_quantile_upper(offset);
  for (double& x : v) x /= top;
  std::sort(v.begin(), v.end());
  v.front() = -1.0;  // exact by construction; bisection noise must not move the extremes
  v.back() = 1.0;
  return v;
}

const std::array<float, 16>& nf4_code_values() {
  static const std::array<float, 16> values = [] {
    const auto d = nf4_code_values_double();
    std::array<float, 16> f{};
    for (std::size_t i = 0; i < 16; ++i) f[i] = static_cast<float>(d[i]);
    return f;
  }();
  return values;
}

std::int64_t Nf4Tensor::storage_bytes() const {
  std::int64_t n = 0;
  for (const auto* t : {&codes, &absmax, &absmax_codes, &absmax_scale, &absmax_mean}) {
    if (t->defined()) n += static_cast<std::int64_t>(t->nbytes());
  }
  return n;
}

torch::Tensor Nf4Tensor::block_absmax() const {
  if (!double_quantised()) return absmax;
  const std::int64_t n = absmax_codes.size(0);
  const torch::Tensor scale = absmax_scale.repeat_interleave(kNf4AbsmaxBlockSize).narrow(0, 0, n);
  return absmax_codes.to(torch::kFloat).sub_(128.0f).div_(127.0f).mul_(scale).add_(absmax_mean);
}

Nf4Tensor nf4_quantize(const torch::Tensor& weight, bool double_quant) {
  if (!weight.defined() || weight.numel() == 0) throw ModelError("nf4: cannot quantise an empty tensor");
  const torch::Tensor w = weight.detach().to(torch::kCPU, torch::kFloat).contiguous();
  const float* p = w.data_ptr<float>();
  Nf4Tensor q;
  q.shape = w.sizes().vec();
  q.numel = w.numel();
  for (std::int64_t i = 0; i < q.numel; ++i) {
    if (!std::isfinite(p[i])) {
      throw ModelError("nf4: cannot quantise a weight of shape " + shape_text(q.shape) + ": value at flat index " +
                       std::to_string(i) + " is not finite (" + std::to_string(p[i]) + ")");
    }
  }
  const std::int64_t blocks = q.blocks();
  torch::Tensor absmax = torch::zeros({blocks}, torch::kFloat);
  q.codes = torch::full({(q.numel + 1) / 2}, (kNf4ZeroCode << 4) | kNf4ZeroCode, torch::kUInt8);
  float* am = absmax.data_ptr<float>();
  std::uint8_t* codes = q.codes.data_ptr<std::uint8_t>();
  at::parallel_for(0, blocks, 16, [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t b = b0; b < b1; ++b) {
      const std::int64_t begin = b * kNf4BlockSize, end = std::min(q.numel, begin + kNf4BlockSize);
      float m = 0.0f;
      for (std::int64_t i = begin; i < end; ++i) m = std::max(m, std::fabs(p[i]));
      am[b] = m;
      if (m == 0.0f) continue;  // codes stay at zero
      for (std::int64_t i = begin; i < end; ++i) {
        const std::uint8_t c = nearest_code(p[i] / m);
        std::uint8_t& byte = codes[i / 2];
        byte = (i % 2 == 0) ? static_cast<std::uint8_t>((byte & 0x0f) | (c << 4))
                            : static_cast<std::uint8_t>((byte & 0xf0) | c);
      }
    }
  });
  if (double_quant) {
    double sum = 0.0;
    for (std::int64_t b = 0; b < blocks; ++b) sum += am[b];
    const float mean = static_cast<float>(sum / static_cast<double>(blocks));
    const std::int64_t groups = (blocks + kNf4AbsmaxBlockSize - 1) / kNf4AbsmaxBlockSize;
    q.absmax_codes = torch::full({blocks}, 128, torch::kUInt8);
    q.absmax_scale = torch::zeros({groups}, torch::kFloat);
    q.absmax_mean = torch::full({1}, mean, torch::kFloat);
    std::uint8_t* ac = q.absmax_codes.data_ptr<std::uint8_t>();
    float* sc = q.absmax_scale.data_ptr<float>();
    for (std::int64_t g = 0; g < groups; ++g) {
      const std::int64_t begin = g * kNf4AbsmaxBlockSize, end = std::min(blocks, begin + kNf4AbsmaxBlockSize);
      float s = 0.0f;
      for (std::int64_t b = begin; b < end; ++b) s = std::max(s, std::fabs(am[b] - mean));
      sc[g] = s;
      if (s == 0.0f) continue;
      for (std::int64_t b = begin; b < end; ++b) {
        const float r = std::nearbyint((am[b] - mean) / s * 127.0f);
        ac[b] = static_cast<std::uint8_t>(128 + static_cast<int>(std::clamp(r, -127.0f, 127.0f)));
      }
    }
  } else {
    q.absmax = absmax;
  }
  if (!weight.device().is_cpu()) {
    for (auto* t : {&q.codes, &q.absmax, &q.absmax_codes, &q.absmax_scale, &q.absmax_mean}) {
      if (t->defined()) *t = t->to(weight.device());
    }
  }
  return q;
}

void nf4_dequantize_into(const Nf4Tensor& q, float* out, bool allow_simd) {
  if (!q.codes.device().is_cpu()) throw ModelError("nf4_dequantize_into: the codes are not on the CPU");
  const torch::Tensor absmax_t = q.block_absmax().contiguous();
  const float* absmax = absmax_t.data_ptr<float>();
  const std::uint8_t* codes = q.codes.data_ptr<std::uint8_t>();
  const std::int64_t full = q.numel / kNf4BlockSize;
  at::parallel_for(0, full, 64, [&](std::int64_t b0, std::int64_t b1) {
    dequant_full_blocks(codes, absmax, out, b0, b1, allow_simd);
  });
  const auto& c = nf4_code_values();
  for (std::int64_t i = full * kNf4BlockSize; i < q.numel; ++i) {
    const std::uint8_t byte = codes[i / 2];
    const int code = (i % 2 == 0) ? (byte >> 4) : (byte & 15);
    out[i] = c[static_cast<std::size_t>(code)] * absmax[i / kNf4BlockSize];
  }
}

torch::Tensor nf4_dequantize_reference(const Nf4Tensor& q) {
  const auto& c = nf4_code_values();
  const torch::Tensor table = torch::from_blob(const_cast<float*>(c.data()), {16}, torch::kFloat).to(q.codes.device());
  const torch::Tensor bytes = q.codes.to(torch::kLong);
  const torch::Tensor idx = torch::stack({bytes.div(16, "floor"), bytes.remainder(16)}, 1).reshape({-1});
  const torch::Tensor values = table.index_select(0, idx.narrow(0, 0, q.numel));
  const torch::Tensor scale = q.block_absmax().repeat_interleave(kNf4BlockSize).narrow(0, 0, q.numel);
  return values.mul(scale).reshape(q.shape);
}

torch::Tensor nf4_dequantize(const Nf4Tensor& q) {
  if (!q.codes.device().is_cpu()) return nf4_dequantize_reference(q);
  torch::Tensor out = torch::empty(q.shape, torch::kFloat);
  nf4_dequantize_into(q, out.data_ptr<float>());
  return out;
}

Nf4ProjectionImpl::Nf4ProjectionImpl(const torch::Tensor& weight, const torch::Tensor& bias, bool double_quant)
    : double_quant_(double_quant) {
  if (!weight.defined() || weight.dim() != 2 || weight.size(0) < 1 || weight.size(1) < 1) {
    throw ModelError("nf4 projection: the weight must be a non-empty [out, in] matrix");
  }
  out_ = weight.size(0);
  in_ = weight.size(1);
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != out_)) {
    throw ModelError("nf4 projection: bias of shape " + shape_text(bias.sizes().vec()) + " for a weight with " +
                     std::to_string(out_) + " outputs");
  }
  Nf4Tensor q = nf4_quantize(weight, double_quant);
  codes_ = register_buffer("weight_codes", q.codes);
  if (double_quant) {
    absmax_codes_ = register_buffer("weight_absmax_codes", q.absmax_codes);
    absmax_scale_ = register_buffer("weight_absmax_scale", q.absmax_scale);
    absmax_mean_ = register_buffer("weight_absmax_mean", q.absmax_mean);
  } else {
    absmax_ = register_buffer("weight_absmax", q.absmax);
  }
  if (bias.defined()) {
    if (!torch::isfinite(bias).all().item<bool>()) throw ModelError("nf4 projection: the bias is not finite");
    bias_ = register_parameter("bias", bias.detach().to(weight.device(), torch::kFloat).clone(),
                               /*requires_grad=*/false);
  }
}

std::shared_ptr<Nf4ProjectionImpl> Nf4ProjectionImpl::from_projection(const ProjectionImpl& source, bool double_quant) {
  return std::make_shared<Nf4ProjectionImpl>(source.effective_weight(), source.effective_bias(), double_quant);
}

Nf4Tensor Nf4ProjectionImpl::quantised_weight() const {
  Nf4Tensor q;
  q.shape = {out_, in_};
  q.numel = out_ * in_;
  q.codes = codes_;
  q.absmax = absmax_;
  q.absmax_codes = absmax_codes_;
  q.absmax_scale = absmax_scale_;
  q.absmax_mean = absmax_mean_;
  return q;
}

torch::Tensor Nf4ProjectionImpl::forward(const torch::Tensor& x) {
  if (x.dim() < 1 || x.size(-1) != in_) {
    throw ModelError("nf4 projection: input of shape " + shape_text(x.sizes().vec()) + " for " + std::to_string(in_) +
                     " input features");
  }
  const Nf4Tensor q = quantised_weight();
  if (torch::GradMode::is_enabled() && (x.requires_grad() || capture_)) {
    return Nf4Linear::apply(x, Nf4Call{q, bias_, capture_, row_importance_, col_importance_, capture_steps_});
  }
  // No graph is recorded, so the scratch weight is not referenced after the product returns.
  return linear_no_graph(x, dequantize_temporary(q), bias_);
}

torch::Tensor Nf4ProjectionImpl::forward_with_update(const torch::Tensor& x, const torch::Tensor& b,
                                                     const torch::Tensor& a, double scale) {
  if (torch::GradMode::is_enabled() && (x.requires_grad() || a.requires_grad() || b.requires_grad())) {
    throw ModelError("nf4 projection: forward_with_update is for inference (autograd off)");
  }
  if (x.dim() < 1 || x.size(-1) != in_ || b.dim() != 2 || a.dim() != 2 || b.size(0) != out_ || a.size(1) != in_ ||
      b.size(1) != a.size(0)) {
    throw ModelError("nf4 projection: forward_with_update got input " + shape_text(x.sizes().vec()) + ", B " +
                     shape_text(b.sizes().vec()) + ", A " + shape_text(a.sizes().vec()) + " for a [" +
                     std::to_string(out_) + ", " + std::to_string(in_) + "] weight");
  }
  torch::NoGradGuard no_grad;
  torch::Tensor w = dequantize_temporary(quantised_weight());
  w.addmm_(b, a, /*beta=*/1.0, /*alpha=*/scale);
  return linear_no_graph(x, w, bias_);
}

torch::Tensor Nf4ProjectionImpl::effective_weight() const { return nf4_dequantize(quantised_weight()); }

torch::Tensor Nf4ProjectionImpl::effective_bias() const { return bias_.defined() ? bias_.detach() : torch::Tensor(); }

std::unique_ptr<WeightRowWriter> Nf4ProjectionImpl::weight_rows(float scale) const {
  const Nf4Tensor q = quantised_weight();
  if (!q.codes.device().is_cpu()) return nullptr;
  struct Rows : WeightRowWriter {
    torch::Tensor codes_t, absmax_t;  // kept alive for the pass (absmax computed once, before it)
    const std::uint8_t* codes = nullptr;
    const float* absmax = nullptr;
    std::int64_t in = 0;
    float scale = 1.f;
    // Element i of the flattened weight into *to.
    void element(std::int64_t i, float* to) const {
      const std::uint8_t byte = codes[i / 2];
      const int code = (i % 2 == 0) ? (byte >> 4) : (byte & 15);
      *to = nf4_code_values()[static_cast<std::size_t>(code)] * absmax[i / kNf4BlockSize];
    }
    bool write_packed(std::int64_t begin, std::int64_t end, const BlockedLayout& layout,
                      float* packed_block) const override {
#ifdef OPSBENCH_NF4_X86
      if (!have_avx512() || layout.in_block() != 16 || layout.row_block() % 16 != 0 || in % 16 != 0) return false;
      dequant_packed_avx512(codes, absmax, in, begin, end - begin, layout.row_block(), layout.in_padded(), scale,
                            packed_block);
      return true;
#else
      (void)begin, (void)end, (void)layout, (void)packed_block;
      return false;
#endif
    }
    void write(std::int64_t begin, std::int64_t end, float* out) const override {
      const std::int64_t e0 = begin * in, e1 = end * in;
      // Whole blocks through the vector kernel, partial ones at the ends element by element.
      const std::int64_t b0 = (e0 + kNf4BlockSize - 1) / kNf4BlockSize, b1 = e1 / kNf4BlockSize;
      if (b0 >= b1) {
        for (std::int64_t i = e0; i < e1; ++i) element(i, out + (i - e0));
      } else {
        for (std::int64_t i = e0; i < b0 * kNf4BlockSize; ++i) element(i, out + (i - e0));
        dequant_full_blocks(codes + b0 * (kNf4BlockSize / 2), absmax + b0, out + (b0 * kNf4BlockSize - e0), 0, b1 - b0,
                            true);
        for (std::int64_t i = b1 * kNf4BlockSize; i < e1; ++i) element(i, out + (i - e0));
      }
      if (scale != 1.f) {
        for (std::int64_t i = 0; i < e1 - e0; ++i) out[i] *= scale;
      }
    }
  };
  auto rows = std::make_unique<Rows>();
  rows->codes_t = q.codes.contiguous();
  rows->absmax_t = q.block_absmax().contiguous();
  rows->codes = rows->codes_t.data_ptr<std::uint8_t>();
  rows->absmax = rows->absmax_t.data_ptr<float>();
  rows->in = in_;
  rows->scale = scale;
  (void)nf4_code_values();  // built here, not first on a worker thread
  return rows;
}

double Nf4ProjectionImpl::bytes_per_element() const {
  return static_cast<double>(quantised_weight().storage_bytes()) / static_cast<double>(in_ * out_);
}

std::int64_t Nf4ProjectionImpl::storage_bytes() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += static_cast<std::int64_t>(p.nbytes());
  for (const auto& b : buffers()) n += static_cast<std::int64_t>(b.nbytes());
  return n;
}

void Nf4ProjectionImpl::set_capture(bool on) {
  capture_ = on;
  if (on) {
    const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(codes_.device());
    row_importance_ = torch::zeros({out_}, opts);
    col_importance_ = torch::zeros({in_}, opts);
    capture_steps_ = torch::zeros({}, opts.dtype(torch::kLong));
  }
}

std::int64_t Nf4ProjectionImpl::captured_steps() const {
  return capture_steps_.defined() ? capture_steps_.item<std::int64_t>() : 0;
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
