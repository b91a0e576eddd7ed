// NF4 quantisation (QLoRA's 4-bit NormalFloat): the code table, error bounds, exact round trips,
// double quantisation, packed sizes, gradients and bad input. Small tensors; each case < 0.1 s.
#include <catch2/catch.hpp>

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "nf4.h"
#include "opsbench/core/error.h"

using namespace opsbench;
using namespace opsbench::models;

namespace {

// Half the widest gap between neighbouring codes: the worst relative rounding error.
double half_widest_gap() {
  const auto& c = nf4_code_values();
  double g = 0;
  for (int i = 0; i < 15; ++i) g = std::max(g, 0.5 * (double(c[i + 1]) - double(c[i])));
  return g;
}

// Max over elements of |w - w'| - bound * absmax(block of the element); <= 0 when every element
// is within the bound.
double excess_over_bound(const torch::Tensor& w, const torch::Tensor& deq, const torch::Tensor& block_absmax,
                         double bound) {
  const torch::Tensor flat = w.reshape({-1}), d = deq.reshape({-1});
  const torch::Tensor am = block_absmax.repeat_interleave(kNf4BlockSize).narrow(0, 0, flat.numel());
  return ((flat - d).abs() - am * bound).max().item<double>();
}

}  // namespace

TEST_CASE("nf4 code values are the normal-quantile table of the QLoRA paper", "[models][nf4]") {
  const auto& c = nf4_code_values();
  REQUIRE(c.size() == 16);
  CHECK(c[0] == -1.0f);
  CHECK(c[kNf4ZeroCode] == 0.0f);
  CHECK(c[15] == 1.0f);
  int negative = 0, positive = 0;
  for (int i = 0; i < 16; ++i) {
    if (i > 0) CHECK(c[i] > c[i - 1]);
    negative += c[i] < 0 ? 1 : 0;
    positive += c[i] > 0 ? 1 : 0;
  }
  CHECK(negative == 7);  // the asymmetric split that makes 0 exact
  CHECK(positive == 8);
  // Reference: the NF4 values listed in Dettmers et al. 2023, "QLoRA" (arXiv:2305.14314),
  // Appendix E, computed there with scipy's norm.ppf in float32.
  const double paper[16] = {-1.0,
                            -0.6961928009986877,
                            -0.5250730514526367,
                            -0.39491748809814453,
                            -0.28444138169288635,
                            -0.18477343022823334,
                            -0.09105003625154495,
                            0.0,
                            0.07958029955625534,
                            0.16093020141124725,
                            0.24611230194568634,
                            0.33791524171829224,
                            0.44070982933044434,
                            0.5626170039176941,
                            0.7229568362236023,
                            1.0};
  const auto d = nf4_code_values_double();
  for (int i = 0; i < 16; ++i) {
    INFO("code " << i);
    CHECK(d[static_cast<std::size_t>(i)] == Approx(paper[i]).margin(2e-6));
  }
  // Inner codes are quantiles: Phi(q * Phi^-1(offset)) lands on the evenly spaced probabilities.
  const double offset = 0.5 * ((1 - 1.0 / 30) + (1 - 1.0 / 32));
  double top = 0;  // Phi^-1(offset), by the same bisection
  {
    double lo = 0, hi = 10;
    for (int i = 0; i < 200; ++i) {
      const double mid = 0.5 * (lo + hi);
      (0.5 * std::erfc(-mid / std::sqrt(2.0)) < offset ? lo : hi) = mid;
    }
    top = lo;
  }
  for (int j = 0; j < 8; ++j) {
    const double p = 0.5 * std::erfc(-d[static_cast<std::size_t>(15 - j)] * top / std::sqrt(2.0));
    CHECK(p == Approx(offset + j * (0.5 - offset) / 8).margin(1e-12));
  }
}

TEST_CASE("nf4 quantisation error is within half a code gap of each block's absmax", "[models][nf4]") {
  torch::manual_seed(1);
  const double bound = half_widest_gap();
  CHECK(bound == Approx(0.1519).margin(1e-4));
  // Even count not a multiple of 64, an odd count with a short last block, a large-scale tensor.
  for (const auto& shape : {std::vector<std::int64_t>{37, 100}, {3, 21}, {5, 64}}) {
    const torch::Tensor w = torch::randn(shape) * (shape[0] == 5 ? 1e3 : 0.05);
    const Nf4Tensor q = nf4_quantize(w);
    REQUIRE(q.codes.numel() == (w.numel() + 1) / 2);
    REQUIRE(q.absmax.numel() == (w.numel() + 63) / 64);
    const torch::Tensor deq = nf4_dequantize(q);
    REQUIRE(deq.sizes() == w.sizes());
    CHECK(excess_over_bound(w, deq, q.absmax, bound) <= 1e-6 * q.absmax.max().item<double>());
    // absmax is the block's largest |w|, reproduced exactly by the +-1 code.
    const torch::Tensor flat = w.reshape({-1});
    for (std::int64_t b = 0; b < q.blocks(); ++b) {
      const std::int64_t n = std::min<std::int64_t>(64, flat.numel() - 64 * b);
      CHECK(q.absmax[b].item<float>() == flat.narrow(0, 64 * b, n).abs().max().item<float>());
    }
    CHECK(deq.abs().max().item<float>() == w.abs().max().item<float>());
    // Fast lookup (AVX-512 where present), portable lookup and tensor-op reference agree exactly.
    torch::Tensor portable = torch::empty_like(deq);
    nf4_dequantize_into(q, portable.data_ptr<float>(), /*allow_simd=*/false);
    CHECK(torch::equal(deq, portable));
    CHECK(torch::equal(deq, nf4_dequantize_reference(q)));
  }
  // Rounding to the nearest code: the mean error on N(0, 1) data is well below the worst case.
  const torch::Tensor w = torch::randn({64, 64});
  const Nf4Tensor q = nf4_quantize(w);
  const double rel = ((w - nf4_dequantize(q)).abs().mean() / w.abs().mean()).item<double>();
  CHECK(rel < 0.12);
}

TEST_CASE("nf4 round-trips values that are code x absmax exactly", "[models][nf4]") {
  const auto& c = nf4_code_values();
  const std::int64_t numel = 5 * 64 + 17;
  torch::Tensor w = torch::empty({numel});
  std::vector<float> absmax = {0.25f, 3.0f, 1e-3f, 7.5f, 0.0f, 2.0f};
  for (std::int64_t i = 0; i < numel; ++i) {
    const std::int64_t b = i / 64;
    // Code 15 (+1) or 0 (-1) at each block's first position pins absmax; others cycle.
    const int code = (i % 64 == 0) ? (b % 2 == 0 ? 15 : 0) : static_cast<int>((i * 7) % 16);
    w[i] = c[static_cast<std::size_t>(code)] * absmax[static_cast<std::size_t>(b)];
  }
  const Nf4Tensor q = nf4_quantize(w);
  CHECK(torch::equal(nf4_dequantize(q), w));
  const Nf4Tensor again = nf4_quantize(nf4_dequantize(q));
  CHECK(torch::equal(again.codes, q.codes));
  CHECK(torch::equal(again.absmax, q.absmax));
  // The all-zero block keeps absmax 0 and the zero code (7) in both nibbles.
  CHECK(q.absmax[4].item<float>() == 0.0f);
  CHECK(q.codes[4 * 32].item<std::uint8_t>() == 0x77);
  // Packing: element 0 in the high nibble of byte 0.
  CHECK((q.codes[0].item<std::uint8_t>() >> 4) == 15);
  CHECK((q.codes[0].item<std::uint8_t>() & 15) == 7);  // element 1: (1 * 7) % 16
}

TEST_CASE("nf4 double quantisation stays within the int8 error bound", "[models][nf4]") {
  torch::manual_seed(2);
  // 1100 blocks: four full second-level groups of 256 and a short one; blocks of varied scale.
  const torch::Tensor w = torch::randn({1100, 64}) * torch::rand({1100, 1}).add(0.1);
  const Nf4Tensor plain = nf4_quantize(w, false);
  const Nf4Tensor dq = nf4_quantize(w, true);
  REQUIRE(dq.double_quantised());
  REQUIRE_FALSE(dq.absmax.defined());
  REQUIRE(dq.absmax_codes.scalar_type() == torch::kUInt8);
  CHECK(dq.absmax_codes.min().item<int>() >= 1);  // c + 128 with c in [-127, 127]
  REQUIRE(dq.absmax_scale.numel() == 5);
  CHECK(torch::equal(dq.codes, plain.codes));  // the 4-bit codes do not depend on the second level
  const torch::Tensor am = plain.absmax, am2 = dq.block_absmax();
  CHECK(dq.absmax_mean.item<float>() == Approx(am.mean().item<float>()).epsilon(1e-5));
  for (std::int64_t g = 0; g < 5; ++g) {
    const std::int64_t n = std::min<std::int64_t>(256, 1100 - 256 * g);
    const float s = dq.absmax_scale[g].item<float>();
    CHECK(s == (am.narrow(0, 256 * g, n) - dq.absmax_mean).abs().max().item<float>());
    const double err = (am.narrow(0, 256 * g, n) - am2.narrow(0, 256 * g, n)).abs().max().item<double>();
    CHECK(err <= s / 254.0 * (1 + 1e-5) + 1e-7);
  }
  // Weight error: the code rounding on the dequantised absmax plus the absmax error itself.
  const torch::Tensor deq = nf4_dequantize(dq);
  const double slack = (am - am2).abs().max().item<double>();
  CHECK(excess_over_bound(w, deq, am2, half_widest_gap()) <= slack + 1e-6);
  torch::Tensor portable = torch::empty_like(deq);
  nf4_dequantize_into(dq, portable.data_ptr<float>(), false);
  CHECK(torch::equal(deq, portable));
  CHECK(torch::equal(deq, nf4_dequantize_reference(dq)));
  // Storage: 4.5 bits per weight without, ~4.13 with double quantisation.
  CHECK(static_cast<double>(plain.storage_bytes()) / w.numel() == Approx(0.5625));
  CHECK(static_cast<double>(dq.storage_bytes()) / w.numel() < 0.517);
}

TEST_CASE("nf4 projection stores no float weight and is at most 1/7 of float32", "[models][nf4]") {
  torch::manual_seed(3);
  const torch::Tensor w = torch::randn({384, 384}) * 0.05, b = torch::randn({384}) * 0.01;
  const std::int64_t fp32_bytes = (w.numel() + b.numel()) * 4;
  for (bool dq : {false, true}) {
    Nf4ProjectionImpl p(w, b, dq);
    std::int64_t bytes = 0;
    for (const auto& t : p.parameters()) bytes += static_cast<std::int64_t>(t.nbytes());
    for (const auto& t : p.buffers()) {
      bytes += static_cast<std::int64_t>(t.nbytes());
      CHECK_FALSE((t.is_floating_point() && t.numel() >= w.numel() / 64 * 4));  // only per-block floats
    }
    CHECK(bytes == p.storage_bytes());
    CHECK(bytes * 7 <= fp32_bytes);  // without double quantisation exactly 1/7 at this size
    CHECK(p.bytes_per_element() == Approx(dq ? 76072.0 / 147456 : 0.5625));
    auto names = p.named_buffers().keys();
    CHECK(std::find(names.begin(), names.end(), "weight_codes") != names.end());
    // The only parameter is the (frozen) bias.
    REQUIRE(p.parameters().size() == 1);
    CHECK_FALSE(p.parameters()[0].requires_grad());
  }
}

TEST_CASE("nf4 projection forward equals linear on the dequantised weight; gradients reach the input only",
          "[models][nf4]") {
  torch::manual_seed(4);
  const torch::Tensor w = torch::randn({48, 40}) * 0.1, b = torch::randn({48});
  auto p = std::make_shared<Nf4ProjectionImpl>(w, b);
  const torch::Tensor wq = p->effective_weight();
  CHECK(torch::equal(p->effective_bias(), b));
  const torch::Tensor x = torch::randn({3, 5, 40});
  {
    torch::NoGradGuard no_grad;
    CHECK(torch::allclose(p->forward(x), torch::linear(x, wq, b), 1e-5, 1e-6));
  }
  // Grad mode with an input that needs no gradient takes the scratch path too.
  CHECK_FALSE(p->forward(x).requires_grad());
  const torch::Tensor xg = x.clone().requires_grad_(true);
  const torch::Tensor y = p->forward(xg);
  REQUIRE(y.requires_grad());
  CHECK(torch::allclose(y, torch::linear(x, wq, b), 1e-5, 1e-6));
  const torch::Tensor up = torch::randn({3, 5, 48});
  (y * up).sum().backward();
  REQUIRE(xg.grad().defined());
  CHECK(torch::allclose(xg.grad(), up.matmul(wq), 1e-5, 1e-6));
  for (const auto& t : p->parameters()) CHECK_FALSE(t.grad().defined());
  // A second layer between the same scratch buffer: the backward pass re-dequantises its own weight.
  auto p2 = std::make_shared<Nf4ProjectionImpl>(torch::randn({40, 48}), torch::Tensor());
  const torch::Tensor x2 = x.clone().requires_grad_(true);
  p2->forward(p->forward(x2)).sum().backward();
  const torch::Tensor x3 = x.clone().requires_grad_(true);
  torch::linear(torch::linear(x3, wq, b), p2->effective_weight()).sum().backward();
  CHECK(torch::allclose(x2.grad(), x3.grad(), 1e-4, 1e-5));
}

TEST_CASE("nf4 capture accumulates |W x dL/dW| per row and column", "[models][nf4]") {
  torch::manual_seed(5);
  auto p = std::make_shared<Nf4ProjectionImpl>(torch::randn({6, 10}), torch::randn({6}));
  const torch::Tensor wq = p->effective_weight();
  p->set_capture(true);
  torch::Tensor rows = torch::zeros({6}), cols = torch::zeros({10});
  for (int step = 0; step < 2; ++step) {
    const torch::Tensor x = torch::randn({4, 10}).requires_grad_(true);
    const torch::Tensor up = torch::randn({4, 6});
    (p->forward(x) * up).sum().backward();
    const torch::Tensor gw = up.t().mm(x.detach());  // dL/dW of this batch
    rows += (wq * gw).abs().sum(1);
    cols += (wq * gw).abs().sum(0);
  }
  CHECK(p->captured_steps() == 2);
  CHECK(torch::allclose(p->captured_row_importance(), rows, 1e-5, 1e-6));
  CHECK(torch::allclose(p->captured_col_importance(), cols, 1e-5, 1e-6));
  p->set_capture(false);
  CHECK_FALSE(p->capturing());
}

TEST_CASE("nf4 rejects non-finite, empty and misshapen input", "[models][nf4]") {
  torch::Tensor w = torch::randn({4, 70});
  w[2][5] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(nf4_quantize(w), ModelError);
  CHECK_THROWS_WITH(Nf4ProjectionImpl(w, torch::Tensor()), Catch::Contains("flat index 145"));
  w[2][5] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(nf4_quantize(w, true), ModelError);
  CHECK_THROWS_AS(nf4_quantize(torch::empty({0})), ModelError);
  CHECK_THROWS_AS(Nf4ProjectionImpl(torch::randn({4}), torch::Tensor()), ModelError);
  CHECK_THROWS_AS(Nf4ProjectionImpl(torch::randn({4, 3}), torch::randn({3})), ModelError);
  Nf4ProjectionImpl ok(torch::randn({4, 3}), torch::randn({4}));
  CHECK_THROWS_AS(ok.forward(torch::randn({2, 5})), ModelError);
}

#endif  // OPSBENCH_HAVE_TORCH
