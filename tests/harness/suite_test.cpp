// Suite files: valid suites load, bad ones fail with the place and what is valid.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "opsbench/core/error.h"
#include "opsbench/harness/register_all.h"
#include "opsbench/harness/suite.h"

using namespace opsbench;

namespace {

const char* kMinimal = R"(
name = "mini"
methods = ["iforest:n_estimators=10", "pca"]
metrics = ["roc_auc", "f1"]
[[datasets]]
name = "syn"
reader = "synthetic-workflow"
options = { runs = 10, jobs_per_run = 20 }
)";

Suite parse(const std::string& text) { return parse_suite(text, "test.toml", builtin_registry()); }

std::string with(const std::string& extra) { return std::string(kMinimal) + extra; }
// Top-level keys must come before the first table header.
std::string with_top(const std::string& extra) { return extra + kMinimal; }

}  // namespace

TEST_CASE("a minimal suite loads with defaults", "[harness][suite]") {
  const Suite s = parse(kMinimal);
  CHECK(s.name == "mini");
  CHECK(s.repetitions == 3);
  CHECK(s.primary_metric == "roc_auc");
  REQUIRE(s.datasets.size() == 1);
  CHECK(s.datasets[0].options.size() == 2);
  CHECK(s.split.kind == SplitKind::kStratified);
  const Suite back = suite_from_json(s.to_json());
  CHECK(back.name == s.name);
  CHECK(back.methods == s.methods);
}

TEST_CASE("every shipped suite loads and names itself after its file", "[harness][suite]") {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(OPSBENCH_SOURCE_DIR) + "/suites")) {
    if (entry.path().extension() != ".toml") continue;
    INFO(entry.path().string());
    const Suite s = load_suite(entry.path().string(), builtin_registry());
    CHECK(s.name == entry.path().stem().string());
    ++count;
  }
  CHECK(count >= 2);
}

TEST_CASE("bad suites fail with the place and the valid choices", "[harness][suite]") {
  SECTION("duplicate key, reported by the TOML parser with line and column") {
    CHECK_THROWS_WITH(parse("name = \"a\"\nname = \"b\"\n"), Catch::StartsWith("test.toml:2:"));
  }
  SECTION("unknown top-level key") {
    CHECK_THROWS_WITH(parse(with_top("seedz = 3\n")), Catch::Contains("unknown key 'seedz'") &&
                                                          Catch::Contains("valid keys here:") &&
                                                          Catch::StartsWith("test.toml:1:"));
    CHECK_THROWS_WITH(parse(with("seedz = 3\n")), Catch::Contains("unknown key 'datasets.seedz'"));
  }
  SECTION("unknown key in a section") {
    CHECK_THROWS_WITH(parse(with("[split]\nkind = \"group\"\ntrian = 0.5\n")),
                      Catch::Contains("unknown key 'split.trian'"));
  }
  SECTION("unknown method, with candidates") {
    std::string text = kMinimal;
    text.replace(text.find("\"pca\""), 5, "\"pcaa\"");
    CHECK_THROWS_WITH(parse(text), Catch::Contains("unknown method 'pcaa'") && Catch::Contains("candidates:"));
  }
  SECTION("option out of bounds") {
    std::string text = kMinimal;
    text.replace(text.find("n_estimators=10"), 15, "n_estimators=0");
    CHECK_THROWS_WITH(parse(text), Catch::Contains("option 'n_estimators'") && Catch::Contains("out of bounds"));
  }
  SECTION("unknown reader option") {
    std::string text = kMinimal;
    text.replace(text.find("runs = 10"), 9, "rnus = 10");
    CHECK_THROWS_WITH(parse(text), Catch::Contains("unknown option 'rnus'"));
  }
  SECTION("unknown metric") {
    std::string text = kMinimal;
    text.replace(text.find("\"f1\""), 4, "\"f2\"");
    CHECK_THROWS_WITH(parse(text), Catch::Contains("unknown metric 'f2'"));
  }
  SECTION("ratios that do not sum to one") {
    CHECK_THROWS_WITH(parse(with("[split]\ntrain = 0.5\nvalidation = 0.1\ntest = 0.1\n")),
                      Catch::Contains("sum to 1"));
  }
  SECTION("unknown split kind") {
    CHECK_THROWS_WITH(parse(with("[split]\nkind = \"grouped\"\n")), Catch::Contains("split.kind"));
  }
  SECTION("unknown threshold policy") {
    CHECK_THROWS_WITH(parse(with("[threshold]\npolicy = \"top\"\n")), Catch::Contains("threshold.policy"));
  }
  SECTION("wrong type") {
    CHECK_THROWS_WITH(parse(with_top("repetitions = \"3\"\n")), Catch::Contains("repetitions: expected an integer"));
  }
  SECTION("no datasets") {
    CHECK_THROWS_WITH(parse("name = \"a\"\nmethods = [\"pca\"]\nmetrics = [\"f1\"]\n"),
                      Catch::Contains("at least one [[datasets]]"));
  }
  SECTION("the same configuration twice") {
    std::string text = kMinimal;
    text.replace(text.find("\"pca\""), 5, "\"iforest:n_estimators=10\"");
    CHECK_THROWS_WITH(parse(text), Catch::Contains("same configuration"));
  }
  SECTION("a missing file") {
    CHECK_THROWS_WITH(load_suite("/nonexistent/suite.toml", builtin_registry()), Catch::Contains("cannot open"));
  }
}
