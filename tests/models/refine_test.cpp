// vae / prodigy / refine on tiny synthetic data: lineage, determinism, stop rules, bad input and
// checkpoint resume. Few epochs and rows keep every case well under a second.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

#include <unistd.h>

#include "opsbench/core/error.h"
#include "opsbench/core/metrics.h"
#include "opsbench/core/registry.h"
#include "opsbench/datasets/register.h"
#include "opsbench/models/register.h"

using namespace opsbench;

#ifdef OPSBENCH_HAVE_TORCH
namespace {

// 120 rows x 10 features in [0,1]: normal rows near 0.3, anomalies (label 1, every 8th row) with
// three features near 0.9.
Table tiny(std::uint64_t seed, std::size_t n = 120) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.03);
  Table t;
  std::vector<std::vector<double>> cols(10, std::vector<double>(n));
  Labels labels{"anomalous", {}, {"normal", "anomalous"}};
  for (std::size_t r = 0; r < n; ++r) {
    const bool anomalous = r % 8 == 7;
    labels.values.push_back(anomalous ? 1 : 0);
    for (std::size_t c = 0; c < 10; ++c) {
      const double base = anomalous && c < 3 ? 0.9 : 0.3 + 0.02 * static_cast<double>(c);
      cols[c][r] = std::min(1.0, std::max(0.0, base + noise(rng)));
    }
  }
  for (std::size_t c = 0; c < 10; ++c) t.add_column(Column::numeric("f" + std::to_string(c), cols[c]));
  t.add_labels(labels);
  return t;
}

std::unique_ptr<Detector> make(const std::string& spec) {
  static const Registry registry = [] {
    Registry r;
    register_models(r);
    return r;
  }();
  const ResolvedMethod m = registry.resolve_method(spec);
  return m.entry->make_detector(m.options);
}

const Figure* find(const std::vector<Figure>& figures, const std::string& name) {
  for (const auto& f : figures) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const char* kFast = "epochs=12,batch_size=32,lr=0.01,iterations=3,min_train=8";

}  // namespace

TEST_CASE("vae and prodigy are the same model and rank anomalies first", "[models][vae]") {
  const Table train = tiny(1), test = tiny(2);
  Context ctx;
  ctx.seed = 7;
  ctx.apply();
  auto vae = make("vae:epochs=30,batch_size=32,lr=0.01");
  vae->fit(train, ctx);
  const auto s = vae->score(test, ctx);
  CHECK(roc_auc(test.label().values, s) > 0.9);
  auto prodigy = make("prodigy:epochs=30,batch_size=32,lr=0.01");
  ctx.apply();
  prodigy->fit(train, ctx);
  CHECK(prodigy->score(test, ctx) == s);
  CHECK(vae->model_size_bytes() > 0);
}

TEST_CASE("refine writes a lineage per iteration and is deterministic", "[models][refine]") {
  const Table train = tiny(3), test = tiny(4);
  Context ctx;
  ctx.seed = 11;
  auto run = [&] {
    auto d = make(std::string("refine:") + kFast);
    d->set_evaluation_rows(test);
    ctx.apply();
    d->fit(train, ctx);
    return std::make_pair(d->diagnostics(), d->diagnostic_info());
  };
  const auto [figs, info] = run();
  const Figure* iters = find(figs, "refine.iterations");
  REQUIRE(iters);
  CHECK(iters->value == 3);
  for (int i = 1; i <= 3; ++i) {
    const std::string p = "refine.iter." + std::to_string(i) + ".";
    REQUIRE(find(figs, p + "f1_macro"));
    CHECK(find(figs, p + "f1_macro")->available);
    CHECK(find(figs, p + "anomaly_ratio_left")->available);
    CHECK(find(figs, p + "knee_epoch")->value >= 1);
    CHECK(info.count(p + "removed_ids") == 1);
  }
  CHECK(find(figs, "refine.iter.2.samples_left")->value < find(figs, "refine.iter.1.samples_left")->value);
  CHECK(find(figs, "refine.stage.initial_training")->unit == "s");
  CHECK(info.at("refine.stop_reason") == "iterations");
  // The 95th-percentile cut removes anomalies first on this data.
  CHECK(find(figs, "refine.iter.3.anomaly_ratio_left")->value < 0.125);

  const auto [figs2, info2] = run();
  CHECK(info2 == info);
  for (int i = 1; i <= 3; ++i) {
    const std::string name = "refine.iter." + std::to_string(i) + ".f1_macro";
    CHECK(find(figs2, name)->value == find(figs, name)->value);
  }
}

TEST_CASE("refine: too few rows, no knee, label-free stop", "[models][refine]") {
  Context ctx;
  ctx.seed = 5;
  ctx.apply();
  auto d = make("refine:epochs=3,min_train=500");
  CHECK_THROWS_AS(d->fit(tiny(1), ctx), DataError);

  // Two epochs cannot have a knee (Kneedle needs 3 points): declared error or fallback.
  auto strict = make("refine:epochs=2,batch_size=32,iterations=1,no_knee=error,min_train=8");
  CHECK_THROWS_WITH(strict->fit(tiny(1), ctx), Catch::Contains("no knee"));
  auto lenient = make("refine:epochs=2,batch_size=32,iterations=1,min_train=8");
  lenient->fit(tiny(1), ctx);
  CHECK(find(lenient->diagnostics(), "refine.iter.1.knee_epoch")->value == 2);

  // Removal that would leave fewer than min_train rows is not applied: refinement stops.
  auto small = make("refine:epochs=4,batch_size=32,lr=0.01,iterations=5,min_train=115");
  small->fit(tiny(1), ctx);
  CHECK(small->diagnostic_info().at("refine.stop_reason") == "min_train");
  CHECK(small->score(tiny(2), ctx).size() == 120);

  auto wstop = make(std::string("refine:") + kFast + ",stop_wasserstein=1000");
  wstop->fit(tiny(1), ctx);
  CHECK(wstop->diagnostic_info().at("refine.stop_reason") == "stop_wasserstein");
  CHECK(find(wstop->diagnostics(), "refine.iterations")->value == 2);  // W1 needs two iterations
}

TEST_CASE("refine resumes from its checkpoint as if never interrupted", "[models][refine]") {
  const auto dir = std::filesystem::temp_directory_path() / ("opsbench_refine_ckpt_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const Table train = tiny(3), test = tiny(4);
  Context ctx;
  ctx.seed = 11;
  ctx.apply();
  auto full = make(std::string("refine:") + kFast);
  full->set_evaluation_rows(test);
  full->fit(train, ctx);

  // "Interrupted" after two iterations, then the 3-iteration run resumes from that checkpoint.
  auto first = make("refine:epochs=12,batch_size=32,lr=0.01,iterations=2,min_train=8,checkpoint_dir=" + dir.string());
  first->set_evaluation_rows(test);
  ctx.apply();
  first->fit(train, ctx);
  auto resumed = make(std::string("refine:") + kFast + ",checkpoint_dir=" + dir.string());
  resumed->set_evaluation_rows(test);
  ctx.apply();
  resumed->fit(train, ctx);
  auto info = resumed->diagnostic_info();
  CHECK(info.at("refine.resumed_after_iteration") == "2");
  auto full_info = full->diagnostic_info();
  for (int i = 1; i <= 3; ++i) {
    const std::string key = "refine.iter." + std::to_string(i) + ".removed_ids";
    CHECK(info.at(key) == full_info.at(key));
  }
  CHECK(find(resumed->diagnostics(), "refine.iter.3.f1_macro")->value ==
        find(full->diagnostics(), "refine.iter.3.f1_macro")->value);
  CHECK(resumed->score(test, ctx) == full->score(test, ctx));
  std::filesystem::remove_all(dir);
}
#endif

#ifdef OPSBENCH_HAVE_TORCH
TEST_CASE("refine smoke run on real LDMS windows (tiny config)", "[models][refine][data][slow]") {
  const char* env = std::getenv("OPSBENCH_DATA");
  const auto root = std::filesystem::path(env ? env : OPSBENCH_SOURCE_DIR "/../shared/data") / "telemetry/ldms-hpas";
  if (!std::filesystem::is_directory(root)) {
    WARN("skipped: no ldms-hpas data at " << root.string());
    return;
  }
  Registry registry;
  register_datasets(registry);
  const ReaderEntry& reader = registry.reader("ldms-hpas");
  ReadContext rctx;
  const Dataset ds = reader.read(
      resolve(reader.options, {{"root", root.string()}, {"max_runs", "10"}, {"select_k", "40"}, {"selection_per_class", "2"}},
              "reader ldms-hpas"),
      rctx);
  std::vector<std::size_t> train_rows, test_rows;
  for (std::size_t r = 0; r < ds.table.num_rows(); ++r) {
    const bool train = ds.table.groups()[r] % 3 != 0;  // whole runs per side
    if (train && ds.table.label().values[r] == 1 && r % 10 != 0) continue;  // ~10% contamination
    (train ? train_rows : test_rows).push_back(r);
  }
  const Table train = ds.table.take(train_rows), test = ds.table.take(test_rows);
  Context ctx;
  ctx.seed = 3;
  ctx.apply();
  auto refine = make("refine:epochs=6,iterations=2,lr=0.005,batch_size=64");
  refine->set_evaluation_rows(test);
  refine->fit(train, ctx);
  const auto figs = refine->diagnostics();
  REQUIRE(find(figs, "refine.iter.2.f1_macro"));
  CHECK(find(figs, "refine.iter.2.f1_macro")->available);
  for (double s : refine->score(test, ctx)) CHECK(std::isfinite(s));
}
#endif
