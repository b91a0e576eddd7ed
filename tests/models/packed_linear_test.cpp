// PackedLinear (models/src/packed_linear.h) against torch's own linear algebra: every epilogue,
// strided rows, odd shapes, no bias, repeated calls with other row counts, and bad shapes.
#include <catch2/catch.hpp>

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include "opsbench/core/error.h"
#include "packed_linear.h"

using opsbench::models::PackedLinear;

namespace {

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

torch::Tensor apply(PackedLinear& p, const torch::Tensor& x, PackedLinear::Epilogue e, torch::Tensor y) {
  p.apply(x.data_ptr<float>(), x.size(0), x.stride(0), y.data_ptr<float>(), y.stride(0), e);
  return y;
}

}  // namespace

TEST_CASE("PackedLinear equals x W^T + b for several shapes and row counts", "[models][packed]") {
  torch::manual_seed(1);
  for (auto [out, in] : {std::pair<std::int64_t, std::int64_t>{7, 5}, {64, 48}, {384, 384}, {33, 130}}) {
    const torch::Tensor w = torch::randn({out, in}), b = torch::randn({out});
    PackedLinear p(w.data_ptr<float>(), b.data_ptr<float>(), out, in);
    CHECK(p.out_features() == out);
    CHECK(p.in_features() == in);
    for (std::int64_t rows : {1, 3, 17, 128}) {
      const torch::Tensor x = torch::randn({rows, in});
      const torch::Tensor y = apply(p, x, {}, torch::empty({rows, out}));
      CHECK(max_abs_diff(y, at::linear(x, w, b)) < 1e-4);
    }
    CHECK(p.packed_bytes() >= static_cast<std::size_t>(out * in) * sizeof(float));
  }
}

TEST_CASE("PackedLinear epilogues: residual sum, GELU (erf and tanh), ReLU", "[models][packed]") {
  torch::manual_seed(2);
  const std::int64_t out = 40, in = 24, rows = 9;
  const torch::Tensor w = torch::randn({out, in}), b = torch::randn({out}), x = torch::randn({rows, in});
  PackedLinear p(w.data_ptr<float>(), b.data_ptr<float>(), out, in);
  const torch::Tensor reference = at::linear(x, w, b);

  const torch::Tensor residual = torch::randn({rows, out});
  PackedLinear::Epilogue sum;
  sum.accumulate = true;
  CHECK(max_abs_diff(apply(p, x, sum, residual.clone()), residual + reference) < 1e-4);

  PackedLinear::Epilogue gelu;
  gelu.activation = PackedLinear::Activation::kGeluErf;
  CHECK(max_abs_diff(apply(p, x, gelu, torch::empty({rows, out})), at::gelu(reference, "none")) < 1e-4);
  gelu.activation = PackedLinear::Activation::kGeluTanh;
  CHECK(max_abs_diff(apply(p, x, gelu, torch::empty({rows, out})), at::gelu(reference, "tanh")) < 1e-4);
  PackedLinear::Epilogue relu;
  relu.activation = PackedLinear::Activation::kRelu;
  CHECK(max_abs_diff(apply(p, x, relu, torch::empty({rows, out})), at::relu(reference)) < 1e-4);
}

TEST_CASE("PackedLinear reads and writes strided rows and works without a bias", "[models][packed]") {
  torch::manual_seed(3);
  const std::int64_t out = 16, in = 12, rows = 5;
  const torch::Tensor w = torch::randn({out, in});
  PackedLinear p(w.data_ptr<float>(), nullptr, out, in);
  // x: every other row of a wider matrix (row stride 3 * in); y: the left part of a wider output.
  const torch::Tensor wide_x = torch::randn({rows, 3 * in});
  const torch::Tensor x = wide_x.narrow(1, in, in);
  torch::Tensor wide_y = torch::full({rows, out + 7}, 42.f);
  p.apply(x.data_ptr<float>(), rows, x.stride(0), wide_y.data_ptr<float>(), wide_y.stride(0), {});
  CHECK(max_abs_diff(wide_y.narrow(1, 0, out), at::linear(x, w)) < 1e-4);
  CHECK(wide_y.narrow(1, out, 7).eq(42.f).all().item<bool>());  // nothing written past the row
}

TEST_CASE("PackedLinear keeps its own copy of the weight and is reproducible", "[models][packed]") {
  torch::manual_seed(4);
  torch::Tensor w = torch::randn({20, 10}), b = torch::randn({20});
  const torch::Tensor x = torch::randn({6, 10});
  PackedLinear p(w.data_ptr<float>(), b.data_ptr<float>(), 20, 10);
  const torch::Tensor first = apply(p, x, {}, torch::empty({6, 20}));
  w.zero_();
  b.zero_();
  const torch::Tensor second = apply(p, x, {}, torch::empty({6, 20}));
  CHECK(torch::equal(first, second));
}

TEST_CASE("PackedLinear refuses bad shapes with a clear error", "[models][packed]") {
  const torch::Tensor w = torch::randn({4, 3});
  CHECK_THROWS_AS(PackedLinear(w.data_ptr<float>(), nullptr, 0, 3), opsbench::ModelError);
  PackedLinear p(w.data_ptr<float>(), nullptr, 4, 3);
  torch::Tensor x = torch::randn({2, 3}), y = torch::empty({2, 4});
  CHECK_THROWS_WITH(p.apply(x.data_ptr<float>(), 2, 2, y.data_ptr<float>(), 4, {}), Catch::Contains("ldx 2"));
  CHECK_THROWS_AS(p.apply(x.data_ptr<float>(), 2, 3, y.data_ptr<float>(), 3, {}), opsbench::ModelError);
  p.apply(x.data_ptr<float>(), 0, 3, y.data_ptr<float>(), 4, {});  // no rows: nothing to do
}

TEST_CASE("linear_unpacked equals x W^T + b, reads strided rows and refuses bad shapes", "[models][packed]") {
  torch::manual_seed(5);
  for (bool with_bias : {true, false}) {
    const torch::Tensor w = torch::randn({30, 20}), b = torch::randn({30});
    const torch::Tensor wide_x = torch::randn({7, 50});
    const torch::Tensor x = wide_x.narrow(1, 3, 20);
    torch::Tensor y = torch::empty({7, 30});
    opsbench::models::linear_unpacked(x.data_ptr<float>(), 7, x.stride(0), w.data_ptr<float>(),
                                      with_bias ? b.data_ptr<float>() : nullptr, 30, 20, y.data_ptr<float>(), 30);
    CHECK(max_abs_diff(y, with_bias ? at::linear(x, w, b) : at::linear(x, w)) < 1e-4);
  }
  const torch::Tensor w = torch::randn({4, 3}), x = torch::randn({2, 3});
  torch::Tensor y = torch::empty({2, 4});
  CHECK_THROWS_AS(opsbench::models::linear_unpacked(x.data_ptr<float>(), 2, 2, w.data_ptr<float>(), nullptr, 4, 3,
                                                    y.data_ptr<float>(), 4),
                  opsbench::ModelError);
}

#endif  // OPSBENCH_HAVE_TORCH
