// The command line: listing, info, eval on explicit files, and exit codes for bad input.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cli_support.h"

using namespace opsbench::test;

namespace {

// Two well-separated clusters: label 1 rows lie far from the normal ones.
std::string labelled_csv(int rows, int offset) {
  std::string text = "a,b,kind,label\n";
  for (int i = 0; i < rows; ++i) {
    const bool anomalous = (i + offset) % 10 == 0;
    const double a = (i % 7) * 0.1 + (anomalous ? 5 : 0);
    const double b = (i % 5) * 0.2 - (anomalous ? 4 : 0);
    text += std::to_string(a) + "," + std::to_string(b) + "," + (i % 2 ? "x" : "y") + "," + (anomalous ? "1" : "0") + "\n";
  }
  return text;
}

}  // namespace

TEST_CASE("list and info describe the registry", "[integration][cli]") {
  const auto list = run_opsbench("list methods");
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.out, Catch::Contains("iforest") && Catch::Contains("pca"));
  const auto all = run_opsbench("list");
  CHECK_THAT(all.out, Catch::Contains("synthetic-workflow") && Catch::Contains("roc_auc"));
  const auto info = run_opsbench("info iforest:n_estimators=50");
  CHECK(info.exit_code == 0);
  CHECK_THAT(info.out, Catch::Contains("canonical: iforest:") && Catch::Contains("n_estimators=50") &&
                           Catch::Contains("max_samples"));
  const auto reader = run_opsbench("info csv");
  CHECK(reader.exit_code == 0);
  CHECK_THAT(reader.out, Catch::Contains("label"));
}

TEST_CASE("exit codes: usage and configuration errors are 2", "[integration][cli]") {
  CHECK(run_opsbench("frobnicate").exit_code == 2);
  CHECK(run_opsbench("run").exit_code == 2);
  const auto unknown = run_opsbench("info ifores");
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.out, Catch::Contains("did you mean 'iforest'"));
  const auto bounds = run_opsbench("info iforest:n_estimators=0");
  CHECK(bounds.exit_code == 2);
  CHECK_THAT(bounds.out, Catch::Contains("out of bounds"));
  const auto nowhere = run_opsbench("run suites/quickstart.toml --data /nonexistent/data --out /tmp/x");
  CHECK(nowhere.exit_code == 2);
  CHECK_THAT(nowhere.out, Catch::Contains("--data '/nonexistent/data'"));
  CHECK(run_opsbench("run --help").exit_code == 0);
  for (const char* sub : {"list", "info", "report", "export", "eval"}) {
    CHECK(run_opsbench(std::string(sub) + " --help").exit_code == 0);
  }
}

TEST_CASE("eval runs one method on explicit files", "[integration][cli][eval]") {
  const std::string dir = temp_dir("eval");
  write_file(dir + "/train.csv", labelled_csv(300, 0));
  write_file(dir + "/test.csv", labelled_csv(200, 3));
  const auto table = run_opsbench("eval iforest --train " + dir + "/train.csv --test " + dir +
                                  "/test.csv --label label --seed 3");
  INFO(table.out);
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("roc_auc") && Catch::Contains("fit") && Catch::Contains("peak RSS"));

  const auto json = run_opsbench("eval iforest:n_estimators=50 --train " + dir + "/train.csv --test " + dir + "/test.csv --label label --json");
  REQUIRE(json.exit_code == 0);
  const auto j = nlohmann::json::parse(json.out);
  CHECK(j["metrics"]["roc_auc"].get<double>() > 0.9);
  bool has_fit_wall = false;
  for (const auto& f : j["figures"]) has_fit_wall |= f["name"] == "fit.wall";
  CHECK(has_fit_wall);

  // A malformed row names file, line and column; nothing is run.
  write_file(dir + "/bad.csv", "a,b,kind,label\n1,2,x,0\n3,4,y\n");
  const auto bad = run_opsbench("eval iforest --train " + dir + "/train.csv --test " + dir + "/bad.csv --label label");
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.out, Catch::Contains("bad.csv:3:"));

  // A classifier task with a detector is a usage error.
  CHECK(run_opsbench("eval iforest --task classify --train " + dir + "/train.csv --test " + dir +
                     "/test.csv --label label")
            .exit_code == 2);
  std::filesystem::remove_all(dir);
}
