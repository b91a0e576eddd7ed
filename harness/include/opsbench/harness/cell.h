// One cell: prepare a dataset's parts for a repetition, then fit, score and measure one method.
//
// Both the suite runner and `opsbench eval` go through these two functions, so a method measured
// on the command line is measured exactly as in a suite.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "opsbench/core/dataset.h"
#include "opsbench/core/measure.h"
#include "opsbench/core/record.h"
#include "opsbench/core/registry.h"
#include "opsbench/harness/suite.h"

namespace opsbench {

// The parts of one repetition after splitting and preprocessing (transforms fitted on train only).
struct PreparedSplit {
  Table train;
  Table validation;  // may have 0 rows
  Table test;
  std::vector<std::string> notes;  // what was done, for the record's info ("split=group 0.6/0.2/0.2", ...)
};

// Splits (or takes the dataset's given split), applies train contamination control, fits the
// preprocessing on train and applies it to every part. Throws DataError when a part is empty or the
// test part holds fewer than two classes (the metrics would be undefined), naming the dataset.
// `resample` (search.h) rebalances the classes of the training part (train-only) or of the whole
// table before the split (before-split; adds the leak warning to the notes).
PreparedSplit prepare_split(const Dataset& dataset, const std::string& dataset_name, Task task,
                            const SplitSpec& split, const PreprocessSpec& preprocess, std::uint64_t seed,
                            const ResampleSpec& resample = ResampleSpec());

struct CellOptions {
  Task task = Task::kDetect;
  std::vector<const MetricEntry*> metrics;
  ThresholdSpec threshold;
  MeasureSpec measure;
  EnergyMonitor* energy = nullptr;  // null: energy figures say "not requested"
  int threads = 1;
  std::vector<SearchSpec> search;  // random search per classifier name (search.h)
};

// Fits and evaluates one method on prepared parts and fills `record` (whose identity fields the
// caller has set, seed included). Never throws for a failing method: the record comes back with
// status failed and the message.
void run_cell(const ResolvedMethod& method, const PreparedSplit& parts, const CellOptions& options,
              RunRecord& record);

}  // namespace opsbench
