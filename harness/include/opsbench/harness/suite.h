// Suite files (TOML): what to run and how, read into a plain Suite value.
//
// A suite names its datasets (reader + options), methods (spec strings), repetitions, split,
// preprocessing, threshold policy, metrics, measurement options and the published reference values
// it replicates. The format is documented in docs/writing-a-suite.md. load_suite() validates
// everything it can without reading data: unknown keys (with the valid ones listed), duplicate keys
// (reported by the TOML parser with line and column), wrong types, unknown readers, methods or
// metrics, options out of bounds. Errors are ConfigErrors that start with "FILE:LINE:COLUMN:" where
// the TOML parser knows the place, else "FILE: key ...".
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "opsbench/core/measure.h"
#include "opsbench/datasets/split.h"
#include "opsbench/harness/report_model.h"
#include "opsbench/harness/search.h"

namespace opsbench {

class Registry;

enum class Task { kDetect, kClassify };
const char* to_string(Task task);
Task parse_task(const std::string& text);

struct DatasetSpec {
  std::string name;    // the suite's name for it: appears in results and reports
  std::string reader;  // registry reader name
  std::vector<std::pair<std::string, std::string>> options;  // spec-string form
  // Overrides split.train_contamination for this dataset (< 0: the suite's). One reader listed
  // several times with different contaminations is how a suite sweeps contamination levels.
  double train_contamination = -1;
};

struct SplitSpec {
  SplitKind kind = SplitKind::kStratified;
  SplitRatios ratios;
  double train_contamination = -1;  // < 0: keep the training part as split
};

struct PreprocessSpec {
  std::string impute = "median";  // mean | median | zero | none
  std::string encode = "onehot";  // onehot | ordinal | drop
  std::string scale = "none";     // standard | minmax | none
  std::string weight = "none";    // none | tfidf (event counts, datasets/tfidf.h; before scale)
  std::string text = "drop";      // drop | keep (text columns for text methods; numeric ones skip them)
};

struct ThresholdSpec {
  std::string policy = "contamination";  // contamination | train_percentile | best_f1_validation
  double value = 0.1;
};

struct MeasureSpec {
  bool latency = true;
  LatencyOptions latency_options;
  bool energy = true;
  double idle_seconds = 1.0;  // idle-power baseline, only where an energy source exists
};

struct Suite {
  std::string name;
  std::string description;
  std::string path;      // the file it was read from ("" when built in code)
  std::string base_dir;  // its directory: relative dataset paths resolve here
  Task task = Task::kDetect;
  int repetitions = 3;
  std::uint64_t seed = 0;  // base seed; cell seeds derive from it
  std::vector<DatasetSpec> datasets;
  std::vector<std::string> methods;  // spec strings as written
  std::vector<std::string> metrics;
  std::string primary_metric;        // defaults to metrics[0]
  SplitSpec split;
  PreprocessSpec preprocess;
  ThresholdSpec threshold;
  MeasureSpec measure;
  ResampleSpec resample;            // [resample] (search.h)
  std::vector<SearchSpec> search;   // [search.<method>] (search.h)
  std::vector<PublishedValue> published;

  // The whole definition as JSON text: stored with each run so reports can be re-rendered.
  std::string to_json() const;
};

// Reads and validates a suite file against the registry.
Suite load_suite(const std::string& path, const Registry& registry);
// The same from TOML text (`origin` names it in messages).
Suite parse_suite(const std::string& toml_text, const std::string& origin, const Registry& registry);
// Checks names and options against the registry (load_suite and parse_suite call it).
void validate_suite(const Suite& suite, const Registry& registry);
// Reads Suite::to_json() back (used to re-render reports from a store; not validated).
Suite suite_from_json(const std::string& json_text);

}  // namespace opsbench
