// The fused Adam loops (models/src/adam_kernels.h): the sum of squares against exact and
// long-double references, the update against a double-precision restatement of the formula and
// against torch::optim::Adam itself (PyTorch's rule, which FusedAdam promises).
#include <catch2/catch.hpp>

#ifdef OPSBENCH_HAVE_TORCH  // models/src is on the include path only in torch builds

#include <torch/torch.h>

#include <cmath>
#include <random>
#include <vector>

#include "adam_kernels.h"

using namespace opsbench::models;

namespace {

std::vector<float> normal_floats(std::size_t n, std::uint64_t seed, float sd = 1.f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.f, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

}  // namespace

TEST_CASE("sum_of_squares is exact on small integers for every tail length", "[models][adam]") {
  for (std::int64_t n : {0, 1, 15, 16, 17, 31, 33, 1000}) {
    std::vector<float> g(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) g[static_cast<std::size_t>(i)] = static_cast<float>(i + 1);
    const double expected = static_cast<double>(n) * (n + 1) * (2 * n + 1) / 6.0;
    CHECK(sum_of_squares(g.data(), n) == expected);
  }
}

TEST_CASE("sum_of_squares agrees with a long-double sum on random data", "[models][adam]") {
  const std::vector<float> g = normal_floats(100'003, 5, 3.f);
  long double reference = 0;
  for (float x : g) reference += static_cast<long double>(x) * x;
  const double got = sum_of_squares(g.data(), static_cast<std::int64_t>(g.size()));
  CHECK(std::fabs(got - static_cast<double>(reference)) <= 1e-12 * static_cast<double>(reference));
  // Same inputs, same result: nothing depends on state outside the call.
  CHECK(sum_of_squares(g.data(), static_cast<std::int64_t>(g.size())) == got);
}

TEST_CASE("adam_update follows the formula over several steps, odd lengths included", "[models][adam]") {
  const std::size_t n = 1037;
  std::vector<float> w = normal_floats(n, 1), m(n, 0.f), v(n, 0.f);
  std::vector<double> wd(w.begin(), w.end()), md(n, 0.0), vd(n, 0.0);
  const double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, scale = 0.37;
  for (int t = 1; t <= 4; ++t) {
    const std::vector<float> g = normal_floats(n, 100 + static_cast<std::uint64_t>(t));
    AdamStepCoefficients c;
    c.grad_scale = static_cast<float>(scale);
    c.step_size = static_cast<float>(lr / (1 - std::pow(b1, t)));
    c.inv_sqrt_bias2 = static_cast<float>(1 / std::sqrt(1 - std::pow(b2, t)));
    adam_update(w.data(), g.data(), m.data(), v.data(), static_cast<std::int64_t>(n), c);
    for (std::size_t i = 0; i < n; ++i) {
      const double gi = g[i] * scale;
      md[i] = b1 * md[i] + (1 - b1) * gi;
      vd[i] = b2 * vd[i] + (1 - b2) * gi * gi;
      wd[i] -= lr / (1 - std::pow(b1, t)) * md[i] / (std::sqrt(vd[i] / (1 - std::pow(b2, t))) + eps);
    }
  }
  double worst_w = 0, worst_m = 0, worst_v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    worst_w = std::max(worst_w, std::fabs(w[i] - wd[i]));
    worst_m = std::max(worst_m, std::fabs(m[i] - md[i]) / (std::fabs(md[i]) + 1e-6));
    worst_v = std::max(worst_v, std::fabs(v[i] - vd[i]) / (std::fabs(vd[i]) + 1e-9));
  }
  CHECK(worst_w < 1e-6);
  CHECK(worst_m < 1e-4);
  CHECK(worst_v < 1e-4);
}

TEST_CASE("adam_update matches torch::optim::Adam", "[models][adam]") {
  const std::int64_t n = 517;
  const double lr = 1e-2;
  torch::manual_seed(3);
  torch::Tensor reference = torch::randn({n}).requires_grad_(true);
  torch::optim::Adam optimizer({reference}, torch::optim::AdamOptions(lr));
  torch::Tensor w = reference.detach().clone(), m = torch::zeros({n}), v = torch::zeros({n});
  for (int t = 1; t <= 5; ++t) {
    const torch::Tensor g = torch::randn({n});
    reference.mutable_grad() = g.clone();
    optimizer.step();
    AdamStepCoefficients c;
    c.step_size = static_cast<float>(lr / (1 - std::pow(0.9, t)));
    c.inv_sqrt_bias2 = static_cast<float>(1 / std::sqrt(1 - std::pow(0.999, t)));
    adam_update(w.data_ptr<float>(), g.data_ptr<float>(), m.data_ptr<float>(), v.data_ptr<float>(), n, c);
  }
  CHECK((w - reference.detach()).abs().max().item<double>() < 1e-6);
}
#endif
