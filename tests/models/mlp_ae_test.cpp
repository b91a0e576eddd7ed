// mlp-ae on small synthetic data: it separates off-manifold rows, is deterministic for a seed, and
// rejects bad input. Few epochs and rows keep each case well under a second.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "opsbench/core/error.h"
#include "opsbench/core/metrics.h"
#include "opsbench/core/registry.h"
#include "opsbench/models/register.h"

#ifdef OPSBENCH_HAVE_TORCH
namespace {

using opsbench::Column;
using opsbench::Table;

// n rows x 6 features on a 2-d plane (features are fixed mixes of two factors) plus small noise;
// every 10th row with `outliers` breaks the mixing (independent values of the same scale).
Table plane(std::uint64_t seed, std::size_t n, bool outliers, std::vector<int>* labels) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  const double mix[6][2] = {{1, 0}, {0, 1}, {0.7, 0.7}, {0.5, -0.5}, {-0.6, 0.8}, {0.9, 0.3}};
  std::vector<std::vector<double>> cols(6, std::vector<double>(n));
  for (std::size_t r = 0; r < n; ++r) {
    const bool anomalous = outliers && r % 10 == 9;
    if (labels != nullptr) labels->push_back(anomalous ? 1 : 0);
    const double a = g(rng), b = g(rng);
    for (std::size_t c = 0; c < 6; ++c) {
      cols[c][r] = anomalous ? 1.2 * g(rng) : mix[c][0] * a + mix[c][1] * b + 0.05 * g(rng);
    }
  }
  Table t;
  for (std::size_t c = 0; c < 6; ++c) t.add_column(Column::numeric("f" + std::to_string(c), cols[c]));
  return t;
}

std::unique_ptr<opsbench::Detector> make(const std::string& spec) {
  static const opsbench::Registry registry = [] {
    opsbench::Registry r;
    opsbench::register_models(r);
    return r;
  }();
  const auto m = registry.resolve_method(spec);
  return m.entry->make_detector(m.options);
}

}  // namespace

TEST_CASE("mlp-ae scores off-manifold rows above the manifold it was trained on", "[models][mlp_ae]") {
  opsbench::Context ctx;
  ctx.seed = 3;
  ctx.apply();
  auto ae = make("mlp-ae:layers=16;2;16,epochs=60,batch_size=32,lr=0.01");
  ae->fit(plane(1, 400, false, nullptr), ctx);
  std::vector<int> labels;
  const Table test = plane(2, 200, true, &labels);
  const std::vector<double> s = ae->score(test, ctx);
  REQUIRE(s.size() == 200);
  CHECK(opsbench::roc_auc(labels, s) > 0.95);
  CHECK(ae->model_size_bytes() == (6 * 16 + 16 + 16 * 2 + 2 + 2 * 16 + 16 + 16 * 6 + 6) * 4);
}

TEST_CASE("mlp-ae gives the same scores for the same seed, different ones for another", "[models][mlp_ae]") {
  const Table train = plane(5, 200, false, nullptr);
  const Table test = plane(6, 50, true, nullptr);
  auto run = [&](std::uint64_t seed, const std::string& spec) {
    opsbench::Context ctx;
    ctx.seed = seed;
    ctx.apply();
    auto ae = make(spec);
    ae->fit(train, ctx);
    return ae->score(test, ctx);
  };
  const std::string spec = "mlp-ae:layers=8;3;8,epochs=5,batch_size=16,activation=tanh";
  CHECK(run(9, spec) == run(9, spec));
  CHECK(run(9, spec) != run(10, spec));
  // euclidean = sqrt(d * mse) for the same model.
  const auto mse = run(9, spec);
  const auto l2 = run(9, spec + ",score=euclidean");
  for (std::size_t i = 0; i < mse.size(); ++i) CHECK(l2[i] == Approx(std::sqrt(6 * mse[i])).epsilon(1e-5));
}

TEST_CASE("mlp-ae rejects bad input and bad layers", "[models][mlp_ae]") {
  opsbench::Context ctx;
  auto ae = make("mlp-ae:epochs=1");
  Table t = plane(1, 20, false, nullptr);
  CHECK_THROWS_AS(ae->score(t, ctx), opsbench::ModelError);
  Table inf = t;
  inf.mutable_columns()[2].mutable_values()[4] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(ae->fit(inf, ctx), opsbench::DataError);
  ae->fit(t, ctx);
  // Default layers for d = 6: 3;2;3, so 6*3+3 + 3*2+2 + 2*3+3 + 3*6+6 = 62 float32 parameters.
  CHECK(ae->model_size_bytes() == 62 * 4);
  Table fewer;
  fewer.add_column(t.column(0));
  CHECK_THROWS_AS(ae->score(fewer, ctx), opsbench::DataError);
  CHECK_THROWS_AS(make("mlp-ae:layers=8;x"), opsbench::ConfigError);
  CHECK_THROWS_AS(make("mlp-ae:layers=0"), opsbench::ConfigError);
}
#endif
