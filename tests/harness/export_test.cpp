// JSON and CSV exports: the canonical JSON reads back to the same values, the CSV is RFC 4180.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/harness/export.h"
#include "opsbench/harness/record_json.h"
#include "opsbench/harness/store.h"

namespace {

opsbench::RunRecord ok_cell() {
  opsbench::RunRecord r;
  r.suite = "quick";
  r.dataset = "flow";
  r.method = "iforest:max_samples=256,n_estimators=100";  // a comma: must be quoted in CSV
  r.method_name = "iforest";
  r.repetition = 1;
  r.seed = 18446744073709551557ULL;  // largest 64-bit prime: not representable as a double
  r.metrics["f1"] = 0.1;
  r.metrics["roc_auc"] = std::numeric_limits<double>::quiet_NaN();
  r.figures.push_back({"fit.wall", 0.125, "s", "steady_clock", true, ""});
  r.figures.push_back({"energy.fit", 0, "J", "", false, "no RAPL, no NVML"});
  r.info["threshold"] = "contamination 0.1";
  r.started_at = "2024-01-02T03:04:05Z";
  return r;
}

opsbench::RunRecord failed_cell() {
  opsbench::RunRecord r = ok_cell();
  r.method = "vae";
  r.method_name = "vae";
  r.status = opsbench::CellStatus::kFailed;
  r.metrics.clear();
  r.figures.clear();
  r.error = "ModelError: loss is \"nan\", at epoch 3\nstopped";
  return r;
}

opsbench::ResultsStore filled_store() {
  opsbench::ResultsStore store(":memory:");
  opsbench::Environment env;
  env.set("compiler", "GCC 12.2.0");
  const auto run = store.begin_run("quick", "opsbench run suites/quick.toml", env,
                                   R"({"name":"quick","published":[]})", {{"a.csv", 3, "ff"}});
  store.put_cell(run, ok_cell());
  store.put_cell(run, failed_cell());
  store.finish_run(run);
  return store;
}

std::vector<std::string> split_crlf(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  while (at < text.size()) {
    // Records end at CRLF outside quotes; a quoted field may hold a bare LF.
    bool quoted = false;
    std::size_t i = at;
    for (; i < text.size(); ++i) {
      if (text[i] == '"') quoted = !quoted;
      if (!quoted && text.compare(i, 2, "\r\n") == 0) break;
    }
    lines.push_back(text.substr(at, i - at));
    at = i + 2;
  }
  return lines;
}

}  // namespace

TEST_CASE("JSON export has the documented shape", "[harness][export]") {
  const auto store = filled_store();
  std::ostringstream out;
  opsbench::export_json(store, out);
  const auto doc = nlohmann::json::parse(out.str());
  CHECK(doc["schema_version"] == 1);
  REQUIRE(doc["runs"].size() == 1);
  CHECK(doc["runs"][0]["suite_definition"]["name"] == "quick");  // embedded as JSON, not as a string
  CHECK(doc["runs"][0]["environment"]["facts"][0][0] == "compiler");
  CHECK(doc["runs"][0]["data_files"][0]["sha256"] == "ff");
  REQUIRE(doc["cells"].size() == 2);
  const auto& cell = doc["cells"][0];
  CHECK(cell["seed"] == "18446744073709551557");
  CHECK(cell["metrics"]["roc_auc"].is_null());
  CHECK(cell["figures"][1]["value"].is_null());
  CHECK(cell["figures"][1]["available"] == false);
  CHECK(cell["run_id"] == doc["runs"][0]["run_id"]);
  CHECK(cell["key"] == ok_cell().key());
  CHECK(doc["cells"][1]["status"] == "failed");
}

TEST_CASE("JSON export reads back to the same snapshot", "[harness][export]") {
  const auto store = filled_store();
  const auto before = opsbench::snapshot(store);
  std::stringstream text;
  opsbench::export_json(before, text);
  const auto after = opsbench::read_results_json(text);
  REQUIRE(after.runs.size() == 1);
  CHECK(after.runs[0].run_id == before.runs[0].run_id);
  CHECK(after.runs[0].command_line == before.runs[0].command_line);
  CHECK(after.runs[0].environment.facts == before.runs[0].environment.facts);
  CHECK(after.runs[0].files.size() == 1);
  CHECK(nlohmann::json::parse(after.runs[0].suite_json) == nlohmann::json::parse(before.runs[0].suite_json));
  REQUIRE(after.cells.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    // Record JSON is a complete description, so equal text means equal records (NaN included).
    CHECK(opsbench::to_json_text(after.cells[i].record) == opsbench::to_json_text(before.cells[i].record));
    CHECK(after.cells[i].run_id == before.cells[i].run_id);
  }
  CHECK(after.cells[0].record.seed == 18446744073709551557ULL);

  // Exporting the import again gives the same bytes.
  std::ostringstream again;
  opsbench::export_json(after, again);
  CHECK(again.str() == text.str());
}

TEST_CASE("JSON import rejects other schema versions and wrong types", "[harness][export]") {
  std::istringstream v2(R"({"schema_version": 2, "runs": [], "cells": []})");
  CHECK_THROWS_WITH(opsbench::read_results_json(v2), Catch::Contains("schema version 2") &&
                                                         Catch::Contains("reads schema version 1"));
  std::istringstream bad_seed(
      R"({"schema_version": 1, "runs": [], "cells": [{"suite": "s", "dataset": "d", "method": "m", "seed": 5}]})");
  CHECK_THROWS_AS(opsbench::read_results_json(bad_seed), opsbench::DataError);
  std::istringstream broken("{\"schema_version\": 1,");
  CHECK_THROWS_AS(opsbench::read_results_json(broken), opsbench::DataError);
  CHECK_THROWS_AS(opsbench::record_from_json_text(R"({"status": "maybe"})"), opsbench::DataError);
}

TEST_CASE("CSV export: one row per cell x metric/figure, RFC 4180 quoting", "[harness][export]") {
  const auto store = filled_store();
  std::ostringstream out;
  opsbench::export_csv(store, out);
  const auto lines = split_crlf(out.str());
  REQUIRE(lines.size() == 1 + 4 + 1);  // header, 2 metrics + 2 figures, 1 row for the failed cell
  CHECK(lines[0] == "suite,dataset,method,repetition,seed,status,kind,name,value,unit,source,available,reason");
  const std::string prefix = "quick,flow,\"iforest:max_samples=256,n_estimators=100\",1,18446744073709551557,ok,";
  CHECK(lines[1] == prefix + "metric,f1,0.1,,,true,");
  CHECK(lines[2] == prefix + "metric,roc_auc,,,,true,");  // NaN: no number
  CHECK(lines[3] == prefix + "figure,fit.wall,0.125,s,steady_clock,true,");
  CHECK(lines[4] == prefix + "figure,energy.fit,,J,,false,\"no RAPL, no NVML\"");
  CHECK(lines[5] == "quick,flow,vae,1,18446744073709551557,failed,cell,,,,,,"
                    "\"ModelError: loss is \"\"nan\"\", at epoch 3\nstopped\"");
}

TEST_CASE("csv_field quotes only what needs quoting", "[harness][export]") {
  CHECK(opsbench::csv_field("plain") == "plain");
  CHECK(opsbench::csv_field("") == "");
  CHECK(opsbench::csv_field("a,b") == "\"a,b\"");
  CHECK(opsbench::csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(opsbench::csv_field("line\r\nbreak") == "\"line\r\nbreak\"");
}
