// Refine's per-iteration figures as report series (private to harness/src; used by the Markdown
// and plot writers). Reads only ReportModel figures named refine.iter.<i>.<name> and
// refine.stage.<stage>, which the `refine` method writes (models/src/refine.cpp); a report without
// them gets no Refine section and no Refine plots.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "opsbench/harness/report_model.h"

namespace opsbench {

struct RefineSeries {
  std::string dataset;
  std::string method;                       // canonical spec of the refine configuration
  std::vector<std::pair<int, double>> points;  // (iteration, median over ok cells), ascending
};

// One series per (dataset, refine method) that has at least one available figure
// refine.iter.<i>.<name> (name: "f1_macro", "anomaly_ratio_left", "time.initial_training", ...).
std::vector<RefineSeries> refine_series(const ReportModel& model, const std::string& name);

bool has_refine_figures(const ReportModel& model);

// The four stages of one iteration, in the paper's order (Table III).
const std::vector<std::string>& refine_stages();

}  // namespace opsbench
