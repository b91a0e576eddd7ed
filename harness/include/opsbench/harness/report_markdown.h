// The Markdown report: one file (report.md) that reads top to bottom as
//   title, description, LOUD warnings, summary line, environment table, then per dataset:
//   quality (mean ± CI half-width (n)), time and memory, latency per batch size, energy (or
//   "unavailable (reason)"), replication against published values, failed cells, plots.
// Every section is explained for readers in docs/reading-a-report.md.
//
// Numbers are formatted one way everywhere: quality metrics with 3 decimals, other figures with 3
// significant digits in human units (ns/µs/ms/s/min/h, B/KiB/MiB/GiB, samples/s with k/M, J/kJ).
// The output depends only on the model and options (no clock, no host lookups), so a fixed model
// gives byte-identical text: the golden test tests/golden/quickstart_report.md relies on it.
#pragma once

#include <string>

#include "opsbench/harness/plot_gnuplot.h"
#include "opsbench/harness/report_model.h"

namespace opsbench {

struct ReportOptions {
  PlotSet plots;  // the plots to link (paths relative to the report), or why there are none
};

std::string render_markdown(const ReportModel& model, const ReportOptions& options);

// Creates out_dir, writes plots (through find_gnuplot()) and out_dir/report.md; returns the
// report's path. Throws Error when the report file cannot be written (plots never throw).
std::string write_report(const ReportModel& model, const std::string& out_dir);

// Replaces what changes from run to run in a rendered report (durations, byte sizes, rates,
// energies, dates and times, 40-hex commit ids) by fixed placeholders such as "<time>", so that
// two reports of the same suite compare equal when only measurements and timestamps differ.
std::string mask_volatile(const std::string& report);

// Formatting used by the report (exposed for tests and other writers).
std::string format_metric(double value);                 // "0.912"
std::string format_significant(double value);           // 3 significant digits, fixed notation
std::string format_quantity(double value, const std::string& unit);  // "12.3 ms", "1.50 GiB"

}  // namespace opsbench
