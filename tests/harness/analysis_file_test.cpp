// Analysis files (harness/analysis.h): strict parsing with places, every shipped file under
// suites/analyses loads, and the CI-sized analysis file runs on the real data (skipped with a
// printed reason when the data or libtorch is absent).
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

#include "analysis_fixture.h"
#include "opsbench/baselines/register.h"
#include "opsbench/core/error.h"
#include "opsbench/core/metric_list.h"
#include "opsbench/core/portable_random.h"
#include "opsbench/core/registry.h"
#include "opsbench/datasets/transforms.h"
#include "opsbench/harness/analysis.h"
#include "opsbench/harness/register_all.h"
#include "opsbench/harness/report_markdown.h"

using namespace opsbench;
using namespace opsbench::analysis_test;
namespace fs = std::filesystem;

TEST_CASE("analysis files are parsed strictly, with places", "[harness][analysis]") {
  const AnalysisFile file = parse(kAllKinds);
  REQUIRE(file.analyses.size() == 4);
  CHECK(file.analyses[0].name == "online");
  CHECK(file.analyses[1].seeds == 3);
  CHECK(file.analyses[2].target_rows == std::vector<std::size_t>{4, 16, 48});
  CHECK(file.preprocess.text == "keep");
  CHECK(parse("[[analyses]]\nkind = \"debias\"\nmethod = \"nbayes\"\ndatasets = [\"wf-a\"]\n").analyses[0].seeds == 10);

  // A key of another kind: the place and the keys this kind takes.
  const std::string other_kind =
      message_of("[[analyses]]\nkind = \"online\"\nmethod = \"nbayes\"\ndatasets = [\"wf-a\"]\naugment = 4\n");
  CHECK_THAT(other_kind, Catch::StartsWith("analyses.toml:18:11: unknown key 'analyses.augment'"));
  CHECK_THAT(other_kind, Catch::Contains("max_features"));
  CHECK_THAT(message_of("wrong = 1\n[[analyses]]\nkind = \"online\"\nmethod = \"nbayes\"\ndatasets = [\"wf-a\"]\n"),
             Catch::StartsWith("analyses.toml:14:9: unknown key 'datasets.wrong'"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"onlne\"\nmethod = \"nbayes\"\ndatasets = [\"wf-a\"]\n"),
             Catch::Contains("valid: online, debias, transfer, forgetting"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"online\"\nmethod = \"nbayes\"\ndatasets = [\"wf-c\"]\n"),
             Catch::Contains("'wf-c' is not declared"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"online\"\nmethod = \"iforest\"\ndatasets = [\"wf-a\"]\n"),
             Catch::Contains("analyses need a classifier"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"online\"\nmethod = \"nbayes:alpha=0\"\ndatasets = [\"wf-a\"]\n"),
             Catch::Contains("alpha"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"forgetting\"\nmethod = \"nbayes\"\nlinear_method = "
                        "\"nbayes-linear\"\ndatasets = [\"wf-a\"]\n"),
             Catch::Contains("exactly two datasets"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"transfer\"\nmethod = \"nbayes\"\ndatasets = [\"wf-a\", \"wf-b\"]\n"
                        "target_rows = [10, 5]\n"),
             Catch::Contains("grow strictly"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"online\"\nmethod = \"nbayes\"\ndatasets = [\"wf-a\"]\nseeds = 0\n"),
             Catch::Contains("seeds: must be in [1, 1000]"));
  CHECK_THAT(message_of("[[analyses]]\nkind = \"forgetting\"\nmethod = \"nbayes\"\nlinear_method = \"nbayes-linear\"\n"
                        "datasets = [\"wf-a\", \"wf-b\"]\npublished_accuracy = [0.8]\npublished_source = \"x\"\n"),
             Catch::Contains("three values"));
  CHECK_THAT(
      message_of("[[analyses]]\nkind = \"online\"\nmethod = \"nbayes\"\ndatasets = [\"wf-a\"]\n"
                 "[[analyses]]\nkind = \"online\"\nmethod = \"nbayes\"\ndatasets = [\"wf-b\"]\nname = \"online\"\n"),
      Catch::Contains("used twice"));
  CHECK_THAT(message_of("[preprocess]\ntext = \"maybe\"\n[[analyses]]\nkind = \"online\"\nmethod = \"nbayes\"\n"
                        "datasets = [\"wf-a\"]\n"),
             Catch::Contains("valid: drop, keep"));
  try {
    parse_analysis_file("name = \"x\"\n[[datasets]]\nreader = \"toy-text\"\noptions = { rows = 2 }\n", "a.toml",
                        test_registry());
    FAIL("an out-of-bounds reader option must fail");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("a.toml:2:1: dataset 'toy-text'"));
  }
}

TEST_CASE("every shipped analysis file loads", "[harness][analysis]") {
  std::size_t count = 0;
  for (const auto& entry : fs::directory_iterator(std::string(OPSBENCH_SOURCE_DIR) + "/suites/analyses")) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".toml") continue;
    INFO(name);
    try {
      const AnalysisFile file = load_analysis_file(entry.path().string(), builtin_registry());
      CHECK(file.name == entry.path().stem().string());
      CHECK(file.analyses.size() == 4);
    } catch (const ConfigError& e) {
      if (std::string(e.what()).find("unknown method 'bert-") == std::string::npos) throw;
      WARN("skipped " << name << ": " << e.what());  // a build without libtorch has no bert-*
    }
    ++count;
  }
  CHECK(count >= 2);
}

TEST_CASE("the CI analysis file runs on the real data", "[harness][analysis][data][integration][slow]") {
  const Registry& registry = builtin_registry();
  const std::string file_path = std::string(OPSBENCH_SOURCE_DIR) + "/suites/analyses/flowbench-analyses-ci.toml";
  AnalysisFile file;
  try {
    file = load_analysis_file(file_path, registry);
  } catch (const ConfigError& e) {
    // The bert-* classifiers are registered only in builds with libtorch.
    if (std::string(e.what()).find("unknown method 'bert-") == std::string::npos) throw;
    WARN("skipped: " << e.what());
    return;
  }
  std::string data;
  if (const char* env = std::getenv("OPSBENCH_DATA")) data = env;
  if (data.empty()) data = (fs::path(OPSBENCH_SOURCE_DIR).parent_path() / "shared" / "data").string();
  if (!fs::exists(fs::path(data) / "flowbench-text")) {
    WARN("skipped: no Flow-Bench data at " << data << " (set OPSBENCH_DATA to the real datasets)");
    return;
  }
  TempOut out("ci");
  AnalysisRunOptions options;
  options.data_root = data;
  options.out_dir = out.path;
  const AnalysisResults results = run_analyses(file, registry, options);
  for (const AnalysisResult& r : results.analyses) {
    INFO(r.spec.name << ": " << r.error);
    CHECK(r.error.empty());
    for (const AnalysisEntry& e : r.entries) {
      INFO(e.role << " " << e.dataset << ": " << e.error);
      CHECK(e.ok);
    }
  }
  write_analysis_outputs(results, out.path);
  CHECK(fs::exists(fs::path(out.path) / "analysis.md"));
}
