// Contract test over every registry entry: each method fits and scores a tiny table, the same seed
// gives the same scores, the canonical spec round-trips, and every declared option has a valid
// default and a description. Readers and metrics are checked for their declarations too.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "opsbench/core/options.h"
#include "opsbench/harness/register_all.h"

using namespace opsbench;

namespace {

Table tiny_table(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Table t;
  for (int c = 0; c < 4; ++c) {
    std::vector<double> values;
    for (int r = 0; r < 64; ++r) values.push_back(normal(rng) + (r >= 60 ? 6.0 : 0.0));
    t.add_column(Column::numeric("f" + std::to_string(c), values));
  }
  return t;
}

}  // namespace

TEST_CASE("every method honours the interface contract", "[harness][registry][contract]") {
  const Registry& registry = builtin_registry();
  REQUIRE(!registry.methods().empty());
  for (const auto& entry : registry.methods()) {
    INFO("method " << entry.name);
    CHECK(!entry.description.empty());
    for (const auto& opt : entry.options) {
      INFO("option " << opt.name);
      CHECK(!opt.description.empty());
      CHECK_NOTHROW(resolve(entry.options, {{opt.name, opt.default_value}}, entry.name));
    }
    const ResolvedMethod m = registry.resolve_method(entry.name);
    CHECK(registry.resolve_method(m.canonical_spec).canonical_spec == m.canonical_spec);

    const ResolvedMethod run_as =
        entry.contract_options.empty() ? m : registry.resolve_method(entry.name + ":" + entry.contract_options);
    const Table table = tiny_table(3);
    Context ctx;
    ctx.seed = 11;
    if (entry.kind == MethodKind::kDetector) {
      REQUIRE(entry.make_detector);
      auto run = [&] {
        auto d = entry.make_detector(run_as.options);
        d->fit(table, ctx);
        CHECK(d->model_size_bytes() > 0);
        return d->score(table, ctx);
      };
      const auto a = run();
      const auto b = run();
      REQUIRE(a.size() == table.num_rows());
      CHECK(a == b);
      for (double s : a) CHECK(std::isfinite(s));
      // The planted outliers (last rows) score above the median row.
      std::vector<double> sorted = a;
      std::sort(sorted.begin(), sorted.end());
      CHECK(a.back() > sorted[sorted.size() / 2]);
    } else {
      REQUIRE(entry.make_classifier);
      std::vector<int> labels(table.num_rows(), 0);
      for (std::size_t r = 60; r < labels.size(); ++r) labels[r] = 1;
      auto c = entry.make_classifier(run_as.options);
      c->fit(table, labels, 2, ctx);
      const Matrix p = c->predict_proba(table, ctx);
      REQUIRE(p.rows == table.num_rows());
      REQUIRE(p.cols == 2);
      for (std::size_t r = 0; r < p.rows; ++r) CHECK(p(r, 0) + p(r, 1) == Approx(1.0));
    }
  }
}

TEST_CASE("every reader and metric is declared completely", "[harness][registry][contract]") {
  const Registry& registry = builtin_registry();
  REQUIRE(!registry.readers().empty());
  for (const auto& entry : registry.readers()) {
    INFO("reader " << entry.name);
    CHECK(!entry.description.empty());
    CHECK(entry.read);
    for (const auto& opt : entry.options) CHECK(!opt.description.empty());
    CHECK_NOTHROW(resolve(entry.options, {}, entry.name));
  }
  REQUIRE(!registry.metrics().empty());
  for (const auto& entry : registry.metrics()) {
    INFO("metric " << entry.name);
    CHECK(!entry.description.empty());
    CHECK(entry.compute);
  }
}
