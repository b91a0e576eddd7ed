// End to end through the binary: the quickstart suite, resume, report re-rendering and exports.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cli_support.h"

using namespace opsbench::test;

TEST_CASE("quickstart runs end to end, resumes and re-renders", "[integration][quickstart]") {
  const std::string out = temp_dir("quickstart");
  const auto first = run_opsbench("run suites/quickstart.toml --out " + out);
  INFO(first.out);
  REQUIRE(first.exit_code == 0);
  const std::string report_path = out + "/quickstart/report.md";
  CHECK_THAT(first.out, Catch::Contains(report_path));
  CHECK_THAT(first.out, Catch::Contains("6 cells: 6 ran, 0 skipped"));
  const std::string report = read_file(report_path);
  CHECK_THAT(report, Catch::Contains("iforest:"));
  CHECK_THAT(report, Catch::Contains("pca:"));
  CHECK_THAT(report, Catch::Contains("roc_auc"));
  CHECK_THAT(report, Catch::Contains("unavailable"));  // no energy counter on CPU-only machines

  const auto second = run_opsbench("run suites/quickstart.toml --out " + out);
  CHECK(second.exit_code == 0);
  CHECK_THAT(second.out, Catch::Contains("6 cells: 0 ran, 6 skipped"));

  const std::string rerendered = out + "/again";
  const auto report_cmd = run_opsbench("report " + out + "/quickstart/results.db --out " + rerendered);
  INFO(report_cmd.out);
  CHECK(report_cmd.exit_code == 0);
  CHECK(std::filesystem::exists(rerendered + "/report.md"));

  const auto json = run_opsbench("export " + out + "/quickstart/results.db --json");
  REQUIRE(json.exit_code == 0);
  const auto j = nlohmann::json::parse(json.out);
  CHECK(j["cells"].size() == 6);
  CHECK(j["runs"].size() == 2);
  const auto csv = run_opsbench("export " + out + "/quickstart/results.db --csv");
  CHECK(csv.exit_code == 0);
  CHECK_THAT(csv.out, Catch::StartsWith("suite,dataset,method,repetition,seed,status,kind,name,value"));
  std::filesystem::remove_all(out);
}

TEST_CASE("flowbench-quick runs on the real data", "[integration][data][slow]") {
  const std::string data = data_root();
  if (data.empty()) {
    WARN("skipped: ../shared/data not found (set OPSBENCH_DATA to the real datasets)");
    return;
  }
  const std::string out = temp_dir("flowbench");
  const auto r = run_opsbench("run suites/flowbench-quick.toml --seeds 1 --data " + data + " --out " + out);
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  const std::string report = read_file(out + "/flowbench-quick/report.md");
  CHECK_THAT(report, Catch::Contains("1000genome"));
  CHECK_THAT(report, Catch::Contains("Jin et al."));
  std::filesystem::remove_all(out);
}
