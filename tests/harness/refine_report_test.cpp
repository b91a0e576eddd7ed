// The Refine section of the report and its plots: present only when cells carry refine.iter.*
// figures. The records are invented for the test (not measurements).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "opsbench/harness/plot_gnuplot.h"
#include "opsbench/harness/report_markdown.h"
#include "opsbench/harness/report_model.h"

using namespace opsbench;

namespace {

RunRecord refine_cell(const std::string& dataset, int rep, double f1_first) {
  RunRecord r;
  r.suite = "refine-test";
  r.dataset = dataset;
  r.method = "refine:iterations=2";
  r.method_name = "refine";
  r.repetition = rep;
  r.metrics["f1_macro"] = 0.5;
  for (int it = 1; it <= 2; ++it) {
    const std::string p = "refine.iter." + std::to_string(it) + ".";
    r.figures.push_back({p + "f1_macro", f1_first + 0.1 * (it - 1), "", "lineage", true, ""});
    r.figures.push_back({p + "anomaly_ratio_left", 0.1 / it, "fraction", "lineage", true, ""});
    r.figures.push_back({p + "samples_left", 100.0 - 5 * it, "rows", "lineage", true, ""});
    r.figures.push_back({p + "time.initial_training", 2.0, "s", "steady_clock", true, ""});
  }
  r.figures.push_back({"refine.stage.initial_training", 4.0, "s", "steady_clock", true, ""});
  r.figures.push_back({"refine.iterations", 2, "iterations", "lineage", true, ""});
  return r;
}

}  // namespace

TEST_CASE("the report gets a Refine section and plots when refine figures exist", "[harness][report][refine]") {
  ReportInput input;
  input.suite = "refine-test";
  input.records = {refine_cell("c05", 0, 0.3), refine_cell("c05", 1, 0.5), refine_cell("c10", 0, 0.2)};
  const ReportModel model = build_report_model(input);
  const auto plots = plan_plots(model);
  std::size_t refine_plots = 0;
  for (const auto& p : plots) refine_plots += p.kind.rfind("refine-", 0) == 0 ? 1 : 0;
  CHECK(refine_plots == 3);
  ReportOptions options;
  options.plots.available = false;
  options.plots.unavailable_reason = "test";
  options.plots.files = plots;
  const std::string md = render_markdown(model, options);
  CHECK_THAT(md, Catch::Contains("## Refine iterations"));
  // Medians over repetitions: c05 iteration 1 = median(0.3, 0.5) = 0.4, iteration 2 = 0.5.
  CHECK_THAT(md, Catch::Contains("| 1 | 0.400 | 0.200 |"));
  CHECK_THAT(md, Catch::Contains("| 2 | 0.500 | 0.300 |"));
  CHECK_THAT(md, Catch::Contains("| `c05` | `refine:iterations=2` | initial_training | 2.00 s | 2.00 s | 4.00 s |"));
}

TEST_CASE("reports without refine figures get no Refine section", "[harness][report][refine]") {
  ReportInput input;
  input.suite = "plain";
  RunRecord r;
  r.suite = "plain";
  r.dataset = "d";
  r.method = "iforest";
  r.method_name = "iforest";
  r.metrics["f1"] = 0.5;
  input.records = {r};
  const ReportModel model = build_report_model(input);
  for (const auto& p : plan_plots(model)) CHECK(p.kind.rfind("refine-", 0) != 0);
  CHECK_THAT(render_markdown(model, {}), !Catch::Contains("Refine"));
}
