// ReportModel: the aggregated, format-free view of a suite's results that every report writer
// renders (Markdown, plots). Built from plain records only; it never reaches into runners or models.
//
// Aggregation rules (docs/reading-a-report.md explains them to readers):
// - quality metrics: over the ok cells of a (dataset, method), the mean and the two-sided 95%
//   Student-t confidence half-width over repetitions (seeds), via mean_ci(); n counts the values.
//   Failed cells contribute nothing to the numbers; they are counted and listed with messages.
// - figures (time, memory, latency, size, energy): the median over the ok cells where the figure
//   was measured. A figure measured in no cell is "unavailable" with the first reason seen.
// - replication: each published value is joined with every method of its dataset whose registry
//   name equals PublishedValue::method or whose canonical spec starts with it; delta = ours - paper;
//   verdict "reproduced" when |delta| <= tolerance, "differs" otherwise, and "not run" when no ok
//   cell of a matching method has the metric.
// - order: datasets and methods in the suite's order where given, otherwise in order of first
//   appearance in the records; metrics with the primary metric first, then by name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "opsbench/core/dataset.h"
#include "opsbench/core/environment.h"
#include "opsbench/core/metrics.h"
#include "opsbench/core/record.h"

namespace opsbench {

// A reference value from a paper that a suite replicates (suite files' [[published]] tables).
struct PublishedValue {
  std::string dataset;  // the suite's dataset name
  std::string method;   // registry name ("iforest") or a canonical spec prefix ("iforest:n_estimators=100")
  std::string metric;
  double value = 0;
  double tolerance = 0;  // |ours - value| <= tolerance counts as reproduced
  std::string source;    // "Jin et al. 2024, Table 3"
  std::string note;
};

struct DatasetNote {
  std::string name;
  std::string description;
  bool synthetic = false;
};

// Everything a report is built from.
struct ReportInput {
  std::string suite;
  std::string title;         // default "opsbench report: <suite>"
  std::string description;
  Environment environment;   // of the latest run
  std::vector<std::string> extra_warnings;  // e.g. "cells come from runs with different commits"
  std::vector<RunRecord> records;
  std::vector<PublishedValue> published;
  std::vector<DatasetNote> datasets;       // order and notes; datasets missing here are appended
  std::vector<std::string> methods;        // canonical specs in suite order (optional)
  std::string primary_metric;              // empty: f1, roc_auc, average_precision, accuracy, else first
  double ci_level = 0.95;
  std::vector<DataFile> data_files;        // every file the cells' runs read, with sha256
};

struct MetricSummary {
  std::string name;
  MeanCi stats;  // n = number of ok cells that have the metric
};

struct FigureSummary {
  std::string name;
  double median = 0;
  std::size_t n = 0;      // cells where it was measured
  std::string unit;
  std::string source;
  bool available = false;
  std::string reason;     // when unavailable
};

struct MethodSummary {
  std::string method;       // canonical spec
  std::string method_name;  // registry name
  std::size_t n_ok = 0;
  std::size_t n_failed = 0;
  std::vector<MetricSummary> metrics;  // in the dataset's metric order
  std::vector<FigureSummary> figures;  // by name
  const MetricSummary* metric(const std::string& name) const;
  const FigureSummary* figure(const std::string& name) const;
};

struct ReplicationRow {
  PublishedValue published;
  std::string method;   // the matched canonical spec; empty when no method matched
  MeanCi ours;
  double delta = 0;     // ours.mean - published.value
  std::string verdict;  // "reproduced" | "differs" | "not run"
};

struct FailedCell {
  std::string method;
  int repetition = 0;
  std::uint64_t seed = 0;
  std::string error;
};

struct DatasetSummary {
  std::string name;
  std::string description;
  bool synthetic = false;
  std::string primary_metric;          // empty when no metric was recorded
  std::vector<std::string> metric_names;
  std::vector<MethodSummary> methods;
  std::vector<ReplicationRow> replication;
  std::vector<FailedCell> failed;
};

struct ReportModel {
  std::string suite;
  std::string title;
  std::string description;
  double ci_level = 0.95;
  Environment environment;
  // Loud warnings, in order: environment warnings, extra warnings, synthetic data, energy, failures.
  std::vector<std::string> warnings;
  bool energy_available = false;       // some cell measured energy
  std::string energy_reason;           // why not, when no cell did
  std::size_t n_cells = 0;
  std::size_t n_failed = 0;
  std::vector<DatasetSummary> datasets;
  std::vector<DataFile> data_files;
};

ReportModel build_report_model(const ReportInput& input);

// True when a published method designation covers this method ("iforest" matches
// "iforest:n_estimators=100" through its registry name; a spec prefix matches by prefix).
bool published_method_matches(const std::string& published_method, const std::string& method_name,
                              const std::string& canonical_spec);

// Median of values (mean of the two middle values for an even count); 0 for none.
double median(std::vector<double> values);

}  // namespace opsbench

namespace opsbench {

struct ResultsSnapshot;  // opsbench/harness/export.h

// The report input for `suite` from a store snapshot or a JSON import: its cells, the environment
// of its latest run (a warning lists facts that differ between the runs its cells came from), and
// description, dataset/method order, primary metric and published values from the latest run's
// suite definition (the "suite_json" written by Suite::to_json()). Dataset notes (synthetic,
// description) come from cells' info "dataset.synthetic" / "dataset.description".
// An empty `suite` is allowed when the snapshot holds exactly one suite; ConfigError otherwise.
ReportInput report_input_from(const ResultsSnapshot& results, const std::string& suite = "");

}  // namespace opsbench
