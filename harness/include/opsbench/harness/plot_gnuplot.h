// Plots of a ReportModel through gnuplot: data and script files are written next to the report
// and gnuplot renders each plot twice (terminal svg and pngcairo, both noenhanced so that names
// with underscores print as written).
//
// Per dataset, when the data exist:
//   plots/<dataset>-primary.svg|png            primary metric per method, mean with CI error bars;
//   plots/<dataset>-quality-latency.svg|png    primary metric against score latency (log x): the p50
//                                              per-batch latency at the largest batch size every
//                                              plotted method measured, else score.wall.
// File names are deterministic and use [A-Za-z0-9._-] only (safe_file_component).
// Without gnuplot the data and scripts are still written and the result says "gnuplot not found";
// a gnuplot failure is reported the same way with the log file: plots never fail a report.
#pragma once

#include <string>
#include <vector>

#include "opsbench/harness/report_model.h"

namespace opsbench {

struct PlotFile {
  std::string dataset;
  std::string kind;   // "primary" | "quality-latency"
  std::string title;
  std::string svg;    // relative to the report directory: "plots/<dataset>-<kind>.svg"
  std::string png;
};

struct PlotSet {
  bool available = false;
  std::string unavailable_reason;  // "gnuplot not found on PATH", "gnuplot failed (see ...)"
  std::vector<PlotFile> files;
};

// The plots a model yields, without writing anything.
std::vector<PlotFile> plan_plots(const ReportModel& model);

// The gnuplot executable: $OPSBENCH_GNUPLOT when set (empty or "none" disables plots), else the
// first "gnuplot" on PATH; "" when none.
std::string find_gnuplot();

// Writes data/script files under report_dir/plots and runs `gnuplot` ("" = not available).
PlotSet write_plots(const ReportModel& model, const std::string& report_dir, const std::string& gnuplot);

// Maps a name to [A-Za-z0-9._-] (others become '_'); never empty, never starts with '.'.
std::string safe_file_component(const std::string& name);

}  // namespace opsbench
