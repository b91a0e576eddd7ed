// Report model aggregation, Markdown rendering against a golden file, masking and plots.
//
// Golden file: tests/golden/quickstart_report.md. Approve a deliberate change of the report with
//   OPSBENCH_APPROVE=1 ./test_harness "[golden]"
// which rewrites the file instead of comparing; review the diff before committing it
// (docs/reading-a-report.md). The records below are fixed and invented for the test: the numbers
// are not measurements and the "published" values are not from any paper.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "opsbench/harness/export.h"
#include "opsbench/harness/plot_gnuplot.h"
#include "opsbench/harness/report_markdown.h"
#include "opsbench/harness/report_model.h"
#include "opsbench/harness/store.h"

namespace fs = std::filesystem;

namespace {

using opsbench::CellStatus;
using opsbench::Figure;
using opsbench::RunRecord;

// `scale` multiplies every measured figure and `day` changes the dates: a second run of the same
// suite on a different day at a different speed.
std::vector<RunRecord> quickstart_records(double scale = 1.0, const std::string& day = "2024-05-01") {
  std::vector<RunRecord> records;
  auto cell = [&](const std::string& dataset, const std::string& method, int rep, double f1, double auc,
                  double fit_wall) {
    RunRecord r;
    r.suite = "quickstart";
    r.dataset = dataset;
    r.method = method;
    r.method_name = method.substr(0, method.find(':'));
    r.repetition = rep;
    r.seed = 1000 + 17 * static_cast<std::uint64_t>(rep);
    r.started_at = day + "T10:0" + std::to_string(rep) + ":00Z";
    r.metrics["f1"] = f1;
    r.metrics["roc_auc"] = auc;
    r.figures.push_back({"fit.wall", fit_wall * scale, "s", "steady_clock", true, ""});
    r.figures.push_back({"fit.cpu", 1.9 * fit_wall * scale, "s", "getrusage", true, ""});
    r.figures.push_back({"score.wall", 0.0123 * scale, "s", "steady_clock", true, ""});
    r.figures.push_back({"fit.peak_rss", 157286400 * scale, "bytes", "/proc/self/status VmHWM", true, ""});
    r.figures.push_back({"score.peak_rss", 52428800 * scale, "bytes", "/proc/self/status VmHWM", true, ""});
    r.figures.push_back({"model_size", 2048 + 512.0 * rep, "bytes", "fitted state", true, ""});
    for (int b : {1, 64}) {
      const std::string p = "latency.b" + std::to_string(b) + ".";
      const double per_batch = (b == 1 ? 4.2e-5 : 9.1e-4) * scale;
      r.figures.push_back({p + "p50", per_batch, "s", "steady_clock", true, ""});
      r.figures.push_back({p + "p95", per_batch * 1.3, "s", "steady_clock", true, ""});
      r.figures.push_back({p + "p99", per_batch * 1.7, "s", "steady_clock", true, ""});
      r.figures.push_back({p + "throughput", b / per_batch, "samples/s", "steady_clock", true, ""});
    }
    r.figures.push_back({"energy.fit", 0, "J", "", false, "no NVML library; RAPL not readable"});
    r.info["dataset.synthetic"] = dataset == "flow-synthetic" ? "true" : "false";
    records.push_back(r);
    return &records.back();
  };
  for (int rep = 0; rep < 3; ++rep) {
    cell("flow-synthetic", "iforest:max_samples=256,n_estimators=100", rep, 0.80 + 0.05 * rep, 0.91 + 0.01 * rep,
         0.35 + 0.05 * rep);
    cell("flow-synthetic", "pca:n_components=2", rep, 0.60 + 0.02 * rep, 0.75, 0.02);
  }
  cell("flow-synthetic", "vae:epochs=5", 0, 0.70, 0.88, 95.0);
  cell("flow-synthetic", "vae:epochs=5", 1, 0.74, 0.86, 125.0);
  RunRecord failed;
  failed.suite = "quickstart";
  failed.dataset = "flow-synthetic";
  failed.method = "vae:epochs=5";
  failed.method_name = "vae";
  failed.repetition = 2;
  failed.seed = 1034;
  failed.status = CellStatus::kFailed;
  failed.error = "ModelError: reconstruction loss is not finite at epoch 3 | lr too high";
  failed.started_at = day + "T10:09:00Z";
  records.push_back(failed);
  // A second dataset whose cells measured energy (RAPL), to show the energy table.
  for (int rep = 0; rep < 2; ++rep) {
    RunRecord* r = cell("telemetry", "lof:n_neighbors=20", rep, 0.55 + 0.1 * rep, 0.70, 4.0);
    r->figures.back() = {"energy.fit.gross", 41.5 * scale, "J", "RAPL package-0", true, ""};
    r->figures.push_back({"energy.fit.net", 12.25 * scale, "J", "RAPL package-0", true, ""});
  }
  return records;
}

opsbench::ReportInput quickstart_input(double scale = 1.0, const std::string& day = "2024-05-01") {
  opsbench::ReportInput in;
  in.suite = "quickstart";
  in.title = "opsbench report: quickstart";
  in.description = "Detectors on a synthetic Flow-Bench look-alike and on node telemetry (test fixture).";
  in.environment.set("opsbench_version", "0.1.0");
  in.environment.set("git_commit", "0123456789abcdef0123456789abcdef01234567 (dirty)");
  in.environment.set("build_type", "Release");
  in.environment.set("compiler", "GCC 12.2.0");
  in.environment.set("cpu", "Test CPU @ 2.0GHz, 2 cores");
  in.environment.set("OPENBLAS_CORETYPE", "Haswell");
  in.environment.set("started_at", day + "T10:00:00Z");
  in.environment.warnings.push_back("OMP_WAIT_POLICY is not passive: threads may oversubscribe the cores");
  in.records = quickstart_records(scale, day);
  in.methods = {"pca:n_components=2", "iforest:max_samples=256,n_estimators=100", "vae:epochs=5"};
  in.primary_metric = "f1";
  in.published = {
      {"flow-synthetic", "iforest", "roc_auc", 0.90, 0.03, "invented for the test", "table 4 style"},
      {"flow-synthetic", "pca", "f1", 0.70, 0.05, "invented for the test", ""},
      {"flow-synthetic", "gcn_ae", "f1", 0.81, 0.02, "invented for the test", ""},
  };
  return in;
}

std::string golden_path(const std::string& name) {
  return std::string(OPSBENCH_SOURCE_DIR) + "/tests/golden/" + name;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Compares with the golden file, or rewrites it when OPSBENCH_APPROVE=1 (the approve step).
void check_golden(const std::string& name, const std::string& actual) {
  const std::string path = golden_path(name);
  const char* approve = std::getenv("OPSBENCH_APPROVE");
  if (approve != nullptr && std::string(approve) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    WARN("approved: rewrote " << path);
    return;
  }
  REQUIRE(fs::exists(path));
  const std::string expected = read_text(path);
  if (expected != actual) {
    std::ofstream(path + ".actual", std::ios::binary) << actual;  // for `diff`
    FAIL("report differs from " << path << "; see " << path << ".actual, or approve with OPSBENCH_APPROVE=1");
  }
}

opsbench::ReportOptions planned_plots(const opsbench::ReportModel& model) {
  opsbench::ReportOptions options;
  options.plots.available = true;
  options.plots.files = opsbench::plan_plots(model);
  return options;
}

}  // namespace

TEST_CASE("report model aggregates over seeds", "[harness][report]") {
  const auto model = opsbench::build_report_model(quickstart_input());
  REQUIRE(model.datasets.size() == 2);
  const auto& flow = model.datasets[0];
  CHECK(flow.name == "flow-synthetic");
  CHECK(flow.synthetic);
  CHECK(flow.primary_metric == "f1");
  CHECK(flow.metric_names == std::vector<std::string>{"f1", "roc_auc"});
  REQUIRE(flow.methods.size() == 3);
  CHECK(flow.methods[0].method == "pca:n_components=2");  // the suite's order
  const auto& iforest = flow.methods[1];
  CHECK(iforest.n_ok == 3);
  const auto* f1 = iforest.metric("f1");
  REQUIRE(f1 != nullptr);
  // f1 = {0.80, 0.85, 0.90}: mean 0.85, sd 0.05; t(0.975, df 2) = 0.95 / sqrt(2 * 0.975 * 0.025)
  // = 4.302652729749462 (closed form of the Student t quantile for 2 degrees of freedom).
  CHECK(f1->stats.mean == Approx(0.85));
  CHECK(f1->stats.half_width == Approx(0.12420688558751648).epsilon(1e-9));
  CHECK(f1->stats.n == 3);
  const auto* fit = iforest.figure("fit.wall");
  REQUIRE(fit != nullptr);
  CHECK(fit->median == Approx(0.40));  // median of 0.35, 0.40, 0.45
  const auto& vae = flow.methods[2];
  CHECK(vae.n_ok == 2);
  CHECK(vae.n_failed == 1);
  CHECK(vae.figure("fit.wall")->median == Approx(110.0));  // even count: mean of 95 and 125
  CHECK_FALSE(vae.figure("energy.fit")->available);
  REQUIRE(flow.failed.size() == 1);
  CHECK(flow.failed[0].repetition == 2);

  REQUIRE(flow.replication.size() == 3);
  CHECK(flow.replication[0].method == "iforest:max_samples=256,n_estimators=100");
  CHECK(flow.replication[0].delta == Approx(0.92 - 0.90));
  CHECK(flow.replication[0].verdict == "reproduced");
  CHECK(flow.replication[1].verdict == "differs");  // pca f1 0.62 vs 0.70 +- 0.05
  CHECK(flow.replication[2].verdict == "not run");
  CHECK(model.n_cells == 11);
  CHECK(model.n_failed == 1);
  CHECK(model.energy_available);
}

TEST_CASE("published methods match by registry name or spec prefix", "[harness][report]") {
  CHECK(opsbench::published_method_matches("iforest", "iforest", "iforest:n_estimators=100"));
  CHECK(opsbench::published_method_matches("iforest:n_estimators=100", "iforest", "iforest:n_estimators=100"));
  CHECK_FALSE(opsbench::published_method_matches("iforest:n_estimators=50", "iforest", "iforest:n_estimators=100"));
  CHECK_FALSE(opsbench::published_method_matches("", "iforest", "iforest"));
  CHECK(opsbench::median({3, 1, 2}) == 2);
  CHECK(opsbench::median({4, 1, 2, 3}) == 2.5);
}

TEST_CASE("numbers are formatted in human units", "[harness][report]") {
  CHECK(opsbench::format_metric(0.91234) == "0.912");
  CHECK(opsbench::format_metric(-0.0001) == "0.000");
  CHECK(opsbench::format_quantity(4.2e-5, "s") == "42.0 µs");
  CHECK(opsbench::format_quantity(0.0123, "s") == "12.3 ms");
  CHECK(opsbench::format_quantity(95, "s") == "95.0 s");
  CHECK(opsbench::format_quantity(600, "s") == "10.0 min");
  CHECK(opsbench::format_quantity(157286400, "bytes") == "150 MiB");
  CHECK(opsbench::format_quantity(512, "bytes") == "512 B");
  CHECK(opsbench::format_quantity(1523809.5, "samples/s") == "1.52M samples/s");
  CHECK(opsbench::format_quantity(0.5, "J") == "500 mJ");
  CHECK(opsbench::format_quantity(41.5, "J") == "41.5 J");
}

TEST_CASE("quickstart report matches the golden file", "[harness][report][golden]") {
  const auto model = opsbench::build_report_model(quickstart_input());
  check_golden("quickstart_report.md", opsbench::render_markdown(model, planned_plots(model)));
}

TEST_CASE("time and memory show classifiers' predict phase and CUDA peaks", "[harness][report]") {
  opsbench::ReportInput in = quickstart_input();
  in.records.clear();
  RunRecord r;
  r.suite = "quickstart";
  r.dataset = "jobs";
  r.method = "bert-full:epochs=2";
  r.method_name = "bert-full";
  r.started_at = "2024-05-01T10:00:00Z";
  r.metrics["f1"] = 0.5;
  r.figures.push_back({"fit.wall", 12.5, "s", "steady_clock", true, ""});
  r.figures.push_back({"predict.wall", 3.25, "s", "steady_clock", true, ""});
  r.figures.push_back({"predict.peak_rss", 314572800, "bytes", "/proc/self/status VmHWM", true, ""});
  r.figures.push_back({"fit.cuda_peak_allocated", 1073741824, "bytes", "CUDA caching allocator", true, ""});
  in.records.push_back(r);
  in.methods = {"bert-full:epochs=2"};
  in.published.clear();
  const auto model = opsbench::build_report_model(in);
  const std::string md = opsbench::render_markdown(model, opsbench::ReportOptions{});
  CHECK_THAT(md, Catch::Contains("| method | fit wall | predict wall | predict peak RSS | fit GPU peak |"));
  CHECK_THAT(md, Catch::Contains("| 12.5 s | 3.25 s | 300 MiB | 1.00 GiB |"));
  CHECK_THAT(md, !Catch::Contains("score wall"));
}

TEST_CASE("masking removes what changes between runs and nothing else", "[harness][report][golden]") {
  const auto a = opsbench::build_report_model(quickstart_input(1.0, "2024-05-01"));
  const auto b = opsbench::build_report_model(quickstart_input(1.37, "2025-11-30"));
  const std::string text_a = opsbench::render_markdown(a, planned_plots(a));
  const std::string text_b = opsbench::render_markdown(b, planned_plots(b));
  REQUIRE(text_a != text_b);
  const std::string masked = opsbench::mask_volatile(text_a);
  CHECK(masked == opsbench::mask_volatile(text_b));
  CHECK_THAT(masked, Catch::Contains("0.850 ± 0.124 (sd 0.050, n=3)"));  // quality numbers are not volatile
  CHECK_THAT(masked, Catch::Contains("<time>"));
  CHECK_THAT(masked, Catch::Contains("<bytes>"));
  CHECK_THAT(masked, Catch::Contains("<date>"));
  CHECK_THAT(masked, Catch::Contains("<commit>"));
  CHECK(masked.find("12.3 ms") == std::string::npos);
}

TEST_CASE("report says why plots are missing without gnuplot", "[harness][report]") {
  const auto model = opsbench::build_report_model(quickstart_input());
  const fs::path dir = fs::temp_directory_path() / ("opsbench_report_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const auto plots = opsbench::write_plots(model, dir.string(), "");
  CHECK_FALSE(plots.available);
  CHECK_THAT(plots.unavailable_reason, Catch::Contains("gnuplot not found"));
  CHECK(fs::exists(dir / "plots" / "flow-synthetic-primary.gp"));  // data and scripts are still there
  CHECK(fs::exists(dir / "plots" / "flow-synthetic-primary.dat"));
  opsbench::ReportOptions options;
  options.plots = plots;
  CHECK_THAT(opsbench::render_markdown(model, options), Catch::Contains("Plots unavailable: gnuplot not found"));
  fs::remove_all(dir);
}

TEST_CASE("write_report renders SVG and PNG plots with gnuplot", "[harness][report][slow]") {
  if (opsbench::find_gnuplot().empty()) {
    WARN("skipped: gnuplot not found on PATH");
    return;
  }
  const auto model = opsbench::build_report_model(quickstart_input());
  const fs::path dir = fs::temp_directory_path() / ("opsbench_report_plots_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string report = opsbench::write_report(model, dir.string());
  CHECK(report == (dir / "report.md").string());
  for (const auto& file : opsbench::plan_plots(model)) {
    CHECK(fs::file_size(dir / file.svg) > 1000);
    CHECK(fs::file_size(dir / file.png) > 1000);
    CHECK_THAT(read_text((dir / file.svg).string()), Catch::Contains("<svg"));
  }
  CHECK_THAT(read_text(report), Catch::Contains("](plots/flow-synthetic-primary.svg)"));
  fs::remove_all(dir);
}

TEST_CASE("a report rendered from a store equals one rendered from its JSON export", "[harness][report]") {
  opsbench::ResultsStore store(":memory:");
  const auto input = quickstart_input();
  const auto run = store.begin_run("quickstart", "opsbench run", input.environment,
                                   R"({"name": "quickstart", "description": "from the suite", "primary_metric": "f1",
                                       "published": [{"dataset": "flow-synthetic", "method": "pca", "metric": "f1",
                                                      "value": 0.61, "tolerance": 0.02, "source": "invented"}]})",
                                   {});
  for (const auto& r : input.records) store.put_cell(run, r);
  const auto from_store = opsbench::report_input_from(opsbench::snapshot(store));
  std::stringstream json;
  opsbench::export_json(store, json);
  const auto from_json = opsbench::report_input_from(opsbench::read_results_json(json), "quickstart");
  CHECK(from_store.description == "from the suite");
  REQUIRE(from_store.published.size() == 1);
  const auto a = opsbench::build_report_model(from_store);
  const auto b = opsbench::build_report_model(from_json);
  CHECK(opsbench::render_markdown(a, planned_plots(a)) == opsbench::render_markdown(b, planned_plots(b)));
  REQUIRE(a.datasets[0].replication.size() == 1);
  CHECK(a.datasets[0].replication[0].verdict == "reproduced");  // pca f1 mean 0.62 vs 0.61 +- 0.02
}
