// Runner: failing cells become data and the suite goes on; resume skips stored cells; seeds and
// results are deterministic.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <limits>

#include <unistd.h>

#include "opsbench/baselines/register.h"
#include "opsbench/core/error.h"
#include "opsbench/core/metric_list.h"
#include "opsbench/datasets/register.h"
#include "opsbench/harness/runner.h"
#include "opsbench/harness/store.h"

using namespace opsbench;

namespace {

// Scores NaN (mode=nan) or throws (mode=throw): methods that must fail their cell only.
class BrokenDetector : public Detector {
 public:
  explicit BrokenDetector(std::string mode) : mode_(std::move(mode)) {}
  void fit(const Table&, const Context&) override {
    if (mode_ == "throw") throw ModelError("broken detector refuses to fit");
  }
  std::vector<double> score(const Table& rows, const Context&) const override {
    return std::vector<double>(rows.num_rows(), std::numeric_limits<double>::quiet_NaN());
  }
  std::size_t model_size_bytes() const override { return 1; }

 private:
  std::string mode_;
};

Registry test_registry() {
  Registry r;
  register_metrics(r);
  register_datasets(r);
  register_baselines(r);
  MethodEntry broken;
  broken.name = "broken";
  broken.description = "test double that fails";
  broken.options = {OptionDecl::choice("mode", "nan", {"nan", "throw"}, "how to fail")};
  broken.make_detector = [](const Options& o) { return std::make_unique<BrokenDetector>(o.get_string("mode")); };
  r.add(broken);
  return r;
}

Suite small_suite(const Registry& registry) {
  return parse_suite(R"(
name = "runner-test"
repetitions = 2
seed = 5
methods = ["iforest:n_estimators=20", "broken:mode=nan", "broken:mode=throw", "pca"]
metrics = ["roc_auc", "f1"]
[split]
kind = "group"
[measure]
latency_batch_sizes = [16]
latency_repeats = 2
energy = false
[[datasets]]
name = "syn"
reader = "synthetic-workflow"
options = { runs = 20, jobs_per_run = 20 }
)",
                     "runner-test.toml", registry);
}

std::string temp_out(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("opsbench-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

}  // namespace

TEST_CASE("failing cells are recorded and the suite goes on", "[harness][runner]") {
  const Registry registry = test_registry();
  const Suite suite = small_suite(registry);
  RunOptions options;
  options.out_dir = temp_out("runner-fail");
  const RunSummary summary = run_suite(suite, registry, options);
  CHECK(summary.total == 8);
  CHECK(summary.ran == 8);
  CHECK(summary.failed == 4);
  ResultsStore store(summary.store_path);
  const auto cells = store.cells();
  REQUIRE(cells.size() == 8);
  for (const auto& c : cells) {
    INFO(c.method << " " << c.error);
    if (c.method_name == "broken") {
      CHECK(c.status == CellStatus::kFailed);
      CHECK_THAT(c.error, Catch::Contains("non-finite score") || Catch::Contains("refuses to fit"));
    } else {
      CHECK(c.status == CellStatus::kOk);
      CHECK(c.metrics.count("roc_auc") == 1);
      CHECK(c.figure("fit.wall") != nullptr);
      CHECK(c.figure("latency.b16.p50") != nullptr);
      REQUIRE(c.figure("energy.fit") != nullptr);
      CHECK_FALSE(c.figure("energy.fit")->available);
    }
  }
  std::filesystem::remove_all(options.out_dir);
}

TEST_CASE("an interrupted run resumes where it stopped", "[harness][runner]") {
  const Registry registry = test_registry();
  const Suite suite = small_suite(registry);
  RunOptions options;
  options.out_dir = temp_out("runner-resume");
  options.filter = "iforest|pca";
  // Interrupt the run after the second stored cell, as a kill between cells would.
  options.on_progress = [](const ProgressEvent& ev) {
    if (ev.done == 2) throw std::runtime_error("interrupted");
  };
  CHECK_THROWS_WITH(run_suite(suite, registry, options), "interrupted");
  options.on_progress = nullptr;
  const RunSummary resumed = run_suite(suite, registry, options);
  CHECK(resumed.total == 4);
  CHECK(resumed.skipped == 2);
  CHECK(resumed.ran == 2);
  const RunSummary again = run_suite(suite, registry, options);
  CHECK(again.skipped == 4);
  CHECK(again.ran == 0);
  std::filesystem::remove_all(options.out_dir);
}

TEST_CASE("the same seed gives the same numbers", "[harness][runner]") {
  const Registry registry = test_registry();
  const Suite suite = small_suite(registry);
  std::vector<std::map<std::string, double>> metrics;
  for (int i = 0; i < 2; ++i) {
    RunOptions options;
    options.out_dir = temp_out("runner-det" + std::to_string(i));
    options.filter = "iforest|pca";
    options.threads = i + 1;  // thread count must not change results
    const RunSummary s = run_suite(suite, registry, options);
    ResultsStore store(s.store_path);
    for (const auto& c : store.cells()) metrics.push_back(c.metrics);
    std::filesystem::remove_all(options.out_dir);
  }
  REQUIRE(metrics.size() == 8);
  for (std::size_t i = 0; i < 4; ++i) CHECK(metrics[i] == metrics[i + 4]);
}

TEST_CASE("a bad filter is a configuration error", "[harness][runner]") {
  const Registry registry = test_registry();
  RunOptions options;
  options.filter = "([";
  CHECK_THROWS_AS(run_suite(small_suite(registry), registry, options), ConfigError);
}

TEST_CASE("a filter that matches no cell says how cells are named", "[harness][runner]") {
  const Registry registry = test_registry();
  RunOptions options;
  options.filter = "no-such-method";
  CHECK_THROWS_WITH(run_suite(small_suite(registry), registry, options),
                    Catch::Contains("matches none") && Catch::Contains("syn/iforest:"));
}
