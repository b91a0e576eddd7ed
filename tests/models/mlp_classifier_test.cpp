// mlp classifier on small synthetic data: it separates three Gaussian blobs, is deterministic for a
// seed, gives probability rows that sum to 1, and rejects bad input. Few epochs and rows keep each
// case well under a second.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "opsbench/core/error.h"
#include "opsbench/core/registry.h"
#include "opsbench/models/register.h"

#ifdef OPSBENCH_HAVE_TORCH
namespace {

using opsbench::Column;
using opsbench::Matrix;
using opsbench::Table;

// n rows x 4 features: three classes, blobs centred 4 standard deviations apart on two of the
// features, the other two pure noise.
Table blobs(std::uint64_t seed, std::size_t n, std::vector<int>& labels) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  const double centre[3][2] = {{0, 0}, {4, 0}, {0, 4}};
  std::vector<std::vector<double>> cols(4, std::vector<double>(n));
  labels.clear();
  for (std::size_t r = 0; r < n; ++r) {
    const int k = static_cast<int>(r % 3);
    labels.push_back(k);
    cols[0][r] = centre[k][0] + g(rng);
    cols[1][r] = centre[k][1] + g(rng);
    cols[2][r] = g(rng);
    cols[3][r] = g(rng);
  }
  Table t;
  for (std::size_t c = 0; c < 4; ++c) t.add_column(Column::numeric("f" + std::to_string(c), cols[c]));
  return t;
}

std::unique_ptr<opsbench::Classifier> make(const std::string& spec) {
  static const opsbench::Registry registry = [] {
    opsbench::Registry r;
    opsbench::register_models(r);
    return r;
  }();
  const auto m = registry.resolve_method(spec);
  return m.entry->make_classifier(m.options);
}

Matrix fit_predict(std::uint64_t seed, const std::string& spec, const Table& train, const std::vector<int>& y,
                   const Table& test) {
  opsbench::Context ctx;
  ctx.seed = seed;
  ctx.apply();
  auto c = make(spec);
  c->fit(train, y, 3, ctx);
  return c->predict_proba(test, ctx);
}

}  // namespace

TEST_CASE("mlp separates Gaussian blobs; probability rows sum to 1", "[models][mlp]") {
  std::vector<int> ytrain, ytest;
  const Table train = blobs(1, 300, ytrain);
  const Table test = blobs(2, 150, ytest);
  const Matrix p = fit_predict(3, "mlp:layers=16,epochs=30,batch_size=32,lr=0.01", train, ytrain, test);
  REQUIRE(p.rows == 150);
  REQUIRE(p.cols == 3);
  std::size_t correct = 0;
  for (std::size_t r = 0; r < p.rows; ++r) {
    double sum = 0;
    std::size_t best = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      CHECK(p(r, k) >= 0);
      sum += p(r, k);
      if (p(r, k) > p(r, best)) best = k;
    }
    CHECK(sum == Approx(1.0).epsilon(1e-12));
    correct += static_cast<int>(best) == ytest[r] ? 1 : 0;
  }
  CHECK(static_cast<double>(correct) / 150.0 > 0.9);
  auto c = make("mlp:layers=16,epochs=1");
  opsbench::Context ctx;
  c->fit(train, ytrain, 3, ctx);
  CHECK(c->model_size_bytes() == (4 * 16 + 16 + 16 * 3 + 3) * 4);
}

TEST_CASE("mlp gives the same probabilities for the same seed, different ones for another", "[models][mlp]") {
  std::vector<int> ytrain, ytest;
  const Table train = blobs(5, 120, ytrain);
  const Table test = blobs(6, 30, ytest);
  const std::string spec = "mlp:layers=8;8,epochs=5,batch_size=16,weight_decay=0.001";
  const Matrix a = fit_predict(7, spec, train, ytrain, test);
  const Matrix b = fit_predict(7, spec, train, ytrain, test);
  const Matrix c = fit_predict(8, spec, train, ytrain, test);
  CHECK(a.data == b.data);
  CHECK(a.data != c.data);
}

TEST_CASE("mlp rejects bad input and options", "[models][mlp]") {
  std::vector<int> y;
  Table train = blobs(9, 30, y);
  opsbench::Context ctx;
  auto c = make("mlp:epochs=1");
  CHECK_THROWS_AS(c->predict_proba(train, ctx), opsbench::ModelError);
  std::vector<int> bad = y;
  bad[4] = 3;
  CHECK_THROWS_AS(c->fit(train, bad, 3, ctx), opsbench::DataError);
  CHECK_THROWS_AS(c->fit(train, std::vector<int>(5, 0), 3, ctx), opsbench::DataError);
  Table nan_table;
  nan_table.add_column(Column::numeric("x", {0.0, std::numeric_limits<double>::quiet_NaN(), 1.0}));
  CHECK_THROWS_AS(c->fit(nan_table, {0, 1, 0}, 2, ctx), opsbench::DataError);
  CHECK_THROWS_AS(make("mlp:layers=8;x"), opsbench::ConfigError);
  c->fit(train, y, 3, ctx);
  Table narrow;
  narrow.add_column(Column::numeric("x", {0.0}));
  CHECK_THROWS_AS(c->predict_proba(narrow, ctx), opsbench::DataError);
}
#endif  // OPSBENCH_HAVE_TORCH
