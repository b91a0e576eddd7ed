// Analyses (harness/analysis.h): each kind end to end on a tiny synthetic text dataset with a fast
// test-only classifier (analysis_fixture.h), failures as data, determinism, written outputs and
// the Markdown golden file. Parsing and the shipped files: analysis_file_test.cpp.
//
// Golden file: tests/harness/golden/analysis_report.md. Approve a deliberate change with
//   OPSBENCH_APPROVE=1 ./test_harness "[analysis][golden]"
// and review the diff. The data, the classifier and therefore every number in it are synthetic.
#include "opsbench/harness/analysis.h"

#include "analysis_fixture.h"


#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "opsbench/baselines/register.h"
#include "opsbench/core/error.h"
#include "opsbench/core/metric_list.h"
#include "opsbench/core/portable_random.h"
#include "opsbench/core/registry.h"
#include "opsbench/datasets/transforms.h"
#include "opsbench/harness/register_all.h"
#include "opsbench/harness/report_markdown.h"

using namespace opsbench;
using namespace opsbench::analysis_test;
namespace fs = std::filesystem;

TEST_CASE("online detection classifies growing prefixes", "[harness][analysis]") {
  TempOut out("online");
  const AnalysisResults results = run(parse(R"(
[[analyses]]
kind = "online"
method = "nbayes"
datasets = ["wf-a"]
)"),
                                      out.path);
  REQUIRE(results.failed() == 0);
  const AnalysisResult& r = results.analyses.at(0);
  REQUIRE(r.entries.size() == 1);
  const AnalysisEntry& e = r.entries[0];
  CHECK(r.features == std::vector<std::string>{"wms_delay", "queue_delay", "runtime", "post_script_delay"});
  REQUIRE(e.prefix_accuracy.size() == 4);
  REQUIRE(e.first_right.size() == 5);
  std::size_t rows = 0;
  for (std::size_t n : e.first_right) rows += n;
  CHECK(rows == 16);  // every test row counted once
  rows = 0;
  for (std::size_t n : e.stable_from) rows += n;
  CHECK(rows == 16);
  // The full prefix is the sentence itself, so its accuracy is the full-sentence accuracy.
  CHECK(e.prefix_accuracy.back() == Approx(e.quality.at("wf-a").accuracy));
  // The anomaly signal sits in the third feature: anomalous rows cannot be right before it.
  CHECK(e.prefix_accuracy[2] > e.prefix_accuracy[1]);
  CHECK_THAT(r.rules.at(1), Catch::Contains("16 of 16 test sentences equal textualise()"));
}

TEST_CASE("online detection on data without template sentences fails as data", "[harness][analysis]") {
  TempOut out("online-fail");
  const AnalysisFile file = parse_analysis_file(R"(
name = "t"
[[datasets]]
name = "numbers"
reader = "toy-text"
options = { textless = true }
[[datasets]]
name = "broken"
reader = "toy-text"
options = { fail = true }
[[analyses]]
kind = "online"
method = "nbayes"
datasets = ["numbers"]
[[analyses]]
kind = "debias"
method = "nbayes"
datasets = ["broken"]
seeds = 1
[[analyses]]
kind = "transfer"
method = "logreg"
datasets = ["numbers", "numbers2"]
target_rows = [24]
[[datasets]]
name = "numbers2"
reader = "toy-text"
options = { textless = true, shift = 2 }
[[analyses]]
name = "fails-to-fit"
kind = "online"
method = "failing"
datasets = ["numbers2"]
)",
                                                "t.toml", test_registry());
  const AnalysisResults results = run(file, out.path);
  REQUIRE(results.analyses.size() == 4);
  CHECK_THAT(results.analyses[0].error, Catch::Contains("has no text column"));
  CHECK_THAT(results.analyses[1].error, Catch::Contains("toy-text: asked to fail"));
  // Numeric methods run the transfer matrix on textless data; continued training needs save/weights.
  const AnalysisResult& transfer = results.analyses[2];
  CHECK(transfer.error.empty());
  std::size_t matrix = 0, scratch = 0, fine = 0;
  for (const AnalysisEntry& e : transfer.entries) {
    if (e.role == "matrix" && e.ok) ++matrix;
    if (e.role == "scratch" && e.ok) ++scratch;
    if (e.role == "fine-tune") {
      CHECK_FALSE(e.ok);
      CHECK_THAT(e.error, Catch::Contains("declares no 'save' option"));
      ++fine;
    }
  }
  CHECK(matrix == 2);
  CHECK(scratch == 1);
  CHECK(fine == 1);
  CHECK_THAT(results.analyses[3].error, Catch::Contains("no text column"));
  CHECK(results.failed() == 4);
  const std::string md = render_analysis_markdown(results, PlotSet{});
  CHECK_THAT(md, Catch::Contains("## Failures"));
  CHECK_THAT(md, Catch::Contains("declares no 'save' option"));
}

TEST_CASE("a method that throws fails its entries and the analysis goes on", "[harness][analysis]") {
  TempOut out("throws");
  const AnalysisResults results = run(parse(R"(
[[analyses]]
kind = "debias"
method = "failing"
datasets = ["wf-a"]
seeds = 2
[[analyses]]
kind = "online"
method = "nbayes"
datasets = ["wf-b"]
)"),
                                      out.path);
  REQUIRE(results.analyses[0].entries.size() == 4);
  for (const AnalysisEntry& e : results.analyses[0].entries) {
    CHECK_FALSE(e.ok);
    CHECK(e.error == "failing classifier refuses to fit");
  }
  CHECK(results.analyses[1].failed() == 0);
  const nlohmann::json j = nlohmann::json::parse(analysis_to_json(results));
  CHECK(j["failed"] == 4);
  CHECK(j["analyses"][0]["status"] == "partial");
  CHECK(j["analyses"][0]["entries"][0]["status"] == "failed");
}

TEST_CASE("debias predicts the empty sentence before and after augmentation", "[harness][analysis]") {
  TempOut out("debias");
  const AnalysisResults results = run(parse(R"(
[[analyses]]
kind = "debias"
method = "nbayes:subsample=0.8"
datasets = ["wf-a"]
seeds = 3
augment = 40
[[analyses]]
kind = "debias"
name = "auto-count"
method = "nbayes"
datasets = ["wf-b"]
seeds = 1
)"),
                                      out.path);
  REQUIRE(results.failed() == 0);
  const AnalysisResult& r = results.analyses[0];
  REQUIRE(r.entries.size() == 6);
  for (const AnalysisEntry& e : r.entries) {
    REQUIRE(e.empty_proba.size() == 2);
    CHECK(e.empty_proba[0] + e.empty_proba[1] == Approx(1.0));
  }
  CHECK(r.entries[1].train_rows == r.entries[0].train_rows + 40);
  // A quarter of the rows are anomalous: the empty sentence leans normal, less so after adding
  // empty sentences of both labels.
  CHECK(r.entries[0].empty_proba[1] < 0.5);
  CHECK(r.entries[1].empty_proba[1] > r.entries[0].empty_proba[1]);
  CHECK(r.entries[0].seed == r.entries[1].seed);
  CHECK(r.entries[0].seed != r.entries[2].seed);
  // Default count: 1% of 48 training rows, rounded up to a multiple of the two classes.
  CHECK_THAT(results.analyses[1].rules.at(1), Catch::StartsWith("wf-b: 2 empty-sentence rows added to 48"));
}

TEST_CASE("transfer fills the matrix and the fine-tuning curve", "[harness][analysis]") {
  TempOut out("transfer");
  const AnalysisResults results = run(parse(R"(
[[analyses]]
kind = "transfer"
method = "nbayes"
datasets = ["wf-a", "wf-b"]
target_rows = [4, 16, 100]
seeds = 2
)"),
                                      out.path);
  REQUIRE(results.failed() == 0);
  const AnalysisResult& r = results.analyses[0];
  CHECK(r.spec.source == "wf-a");
  CHECK(r.spec.target == "wf-b");
  CHECK(r.entries.size() == 2 * (2 + 3 * 2));
  for (const AnalysisEntry& e : r.entries) {
    if (e.role == "matrix") CHECK(e.quality.size() == 2);
    if (e.role == "fine-tune" || e.role == "scratch") {
      CHECK(e.quality.count("wf-b") == 1);
      CHECK(e.train_rows == std::min<std::size_t>(std::stoul(e.info.at("target_rows.asked")), 48));
    }
  }
  REQUIRE(r.warnings.size() == 1);
  CHECK_THAT(r.warnings[0], Catch::Contains("100"));
  CHECK_FALSE(fs::exists(fs::path(out.path) / "models" / "transfer"));  // removed: keep_models = false
  // With all target rows, continuing from the source model adds the source's counts: not the
  // from-scratch model.
  const nlohmann::json j = nlohmann::json::parse(analysis_to_json(results));
  const auto& curve = j["analyses"][0]["summary"]["curve"];
  REQUIRE(curve.size() == 4);
  CHECK(curve[0]["target_rows"] == 0);
  CHECK(curve[3]["scratch_f1"]["n"] == 2);
}

TEST_CASE("forgetting continues from the D1 model with all or linear-only parameters", "[harness][analysis]") {
  TempOut out("forgetting");
  const AnalysisResults results = run(parse(R"(
[[analyses]]
kind = "forgetting"
method = "nbayes"
linear_method = "nbayes-linear"
datasets = ["wf-a", "wf-b"]
keep_models = true
published_accuracy = [0.8155, 0.7065, 0.7305]
published_source = "Jin et al. 2024, Table II"
)"),
                                      out.path);
  REQUIRE(results.failed() == 0);
  const AnalysisResult& r = results.analyses[0];
  REQUIRE(r.entries.size() == 3);
  CHECK(r.entries[0].role == "d1");
  CHECK(r.entries[1].role == "full-d2");
  CHECK(r.entries[2].role == "linear-d2");
  CHECK(r.entries[2].method == "nbayes-linear:alpha=1,save=,subsample=1,weights=");
  for (const AnalysisEntry& e : r.entries) {
    CHECK(e.quality.size() == 2);
    CHECK(e.figure("fit.wall") != nullptr);
  }
  CHECK(fs::exists(fs::path(out.path) / "models" / "forgetting" / "d1-rep0" / "model.txt"));
  // Linear-only keeps the D1 word counts: D1 accuracy stays where it was.
  CHECK(r.entries[2].quality.at("wf-a").accuracy == Approx(r.entries[0].quality.at("wf-a").accuracy).margin(0.15));
  const std::string md = render_analysis_markdown(results, PlotSet{});
  CHECK_THAT(md, Catch::Contains("| + linear only on wf-b | `nbayes-linear` |"));
  CHECK_THAT(md, Catch::Contains("| 0.8155 |"));
}

TEST_CASE("analyses are deterministic for a seed", "[harness][analysis]") {
  TempOut out("determinism");
  auto numbers = [&](const std::string& seed_line) {
    AnalysisFile file = parse(kAllKinds);
    file.seed = std::stoull(seed_line);
    nlohmann::json j = nlohmann::json::parse(analysis_to_json(run(file, out.path)));
    nlohmann::json kept;
    for (auto& a : j["analyses"]) {
      for (auto& e : a["entries"]) {
        e.erase("figures");  // wall and CPU times
        kept.push_back(e);
      }
    }
    return kept;
  };
  const nlohmann::json first = numbers("11");
  CHECK(first == numbers("11"));
  CHECK(first != numbers("12"));  // the debias subsample draws from the seed
}

TEST_CASE("analysis.md matches the golden file", "[harness][analysis][golden]") {
  TempOut out("golden");
  AnalysisResults results = run(parse(kAllKinds), out.path);
  REQUIRE(results.failed() == 0);
  results.environment = Environment();
  results.environment.set("opsbench.version", "0.1.0");
  results.environment.set("git_commit", "0123456789abcdef0123456789abcdef01234567 (dirty)");
  results.environment.set("cpu", "Test CPU, 2 cores");
  results.environment.warnings.push_back("OMP_WAIT_POLICY is not passive: threads may oversubscribe the cores");
  PlotSet plots;
  plots.available = true;
  plots.files = plan_analysis_plots(results);
  CHECK(plots.files.size() == 3);
  const std::string actual = mask_volatile(render_analysis_markdown(results, plots));

  const std::string path = std::string(OPSBENCH_SOURCE_DIR) + "/tests/harness/golden/analysis_report.md";
  const char* approve = std::getenv("OPSBENCH_APPROVE");
  if (approve != nullptr && std::string(approve) == "1") {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    WARN("approved: rewrote " << path);
    return;
  }
  REQUIRE(fs::exists(path));
  std::ifstream in(path, std::ios::binary);
  std::stringstream expected;
  expected << in.rdbuf();
  if (expected.str() != actual) {
    std::ofstream(path + ".actual", std::ios::binary) << actual;
    FAIL("analysis.md differs from " << path << "; see " << path << ".actual, or approve with OPSBENCH_APPROVE=1");
  }
}

TEST_CASE("analysis outputs are written with plots", "[harness][analysis]") {
  TempOut out("outputs");
  const AnalysisResults results = run(parse(kAllKinds), out.path);
  const auto paths = write_analysis_outputs(results, out.path);
  REQUIRE(paths.size() == 2);
  const nlohmann::json j = nlohmann::json::parse(std::ifstream(paths[0]));
  CHECK(j["format"] == "opsbench-analysis");
  CHECK(j["analyses"].size() == 4);
  CHECK(j["analyses"][3]["summary"]["linear-d2"]["wf-a"]["accuracy"]["n"] == 1);
  CHECK(j["environment"]["facts"].size() > 3);
  std::ifstream md(paths[1]);
  std::stringstream text;
  text << md.rdbuf();
  CHECK_THAT(text.str(), Catch::Contains("## online (online)"));
  CHECK(fs::exists(fs::path(out.path) / "plots" / "online-wf-a-first-right.dat"));
  CHECK(fs::exists(fs::path(out.path) / "plots" / "transfer-curve.gp"));
}

