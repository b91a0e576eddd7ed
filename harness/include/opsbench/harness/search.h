// Class resampling and random hyper-parameter search, as declared in a suite (docs/writing-a-suite.md,
// "Resampling and hyper-parameter search").
//
// Resampling ([resample]): method none | smote | tomek | smote-tomek (datasets/resample.h) with
// k_neighbors; protocol
//   - "train-only" (default): the training part is resampled after the split and preprocessing;
//     validation and test parts are never touched (leak-free);
//   - "before-split": the whole table is resampled, then split (the Zang thesis' protocol). Test rows
//     then have synthetic neighbours in training: the cell's info carries a "warning" saying so, which
//     reports show loudly. Needs numeric features without missing values before preprocessing.
//
// Search ([search.<method name>]): for a classifier whose registry name is <method name>, n_iter
// candidates are drawn without replacement from the grid of the listed option values (all of them
// when the grid is smaller), in a seeded order; each is scored by the mean of `metric` over
// `folds` stratified folds of the training part (fit on the other folds); the best (first on ties)
// is fitted on the whole training part and evaluated. Options not listed keep the values of the
// suite's spec string. The cell keeps the suite's spec as its identity; the chosen configuration is
// stored in info "search.best" (canonical spec), its CV score in "search.cv_score", and the search
// time in the figure "search.wall". With train-only resampling, the folds are cut from the
// resampled training part (synthetic rows may sit in another fold than their source: this affects
// which candidate is chosen, never the test rows).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "opsbench/core/context.h"
#include "opsbench/core/metrics.h"
#include "opsbench/core/record.h"
#include "opsbench/core/registry.h"
#include "opsbench/core/table.h"

namespace opsbench {

struct ResampleSpec {
  std::string method = "none";         // none | smote | tomek | smote-tomek
  std::string protocol = "train-only";  // train-only | before-split
  int k_neighbors = 5;
};

struct SearchSpec {
  std::string method;  // registry name the space applies to
  std::vector<std::pair<std::string, std::vector<std::string>>> space;  // option -> values (spec-string form)
  int n_iter = 10;
  int folds = 3;
  std::string metric;  // "" = roc_auc_ovr_macro for 3+ classes, roc_auc for 2
};

// The warning put into info["warning"] by the before-split protocol.
extern const char* const kResampleBeforeSplitWarning;

// Checks a search spec against the registry: the method exists and is a classifier, every option is
// declared and every value valid, n_iter >= 1, folds >= 2. ConfigError naming `where` otherwise.
void validate_search(const SearchSpec& spec, const Registry& registry, const std::string& where);

// Runs the search on `train` (labels required) and returns the chosen configuration; fills
// record.info["search.*"] and the "search.wall" figure. `metrics` are the suite's metric entries
// (the search metric must be one of them, or the default).
ResolvedMethod random_search(const ResolvedMethod& base, const SearchSpec& spec, const Table& train,
                             const std::vector<const MetricEntry*>& metrics, const Context& ctx, RunRecord& record);

}  // namespace opsbench
