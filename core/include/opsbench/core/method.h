// The method families. Each family is one abstract interface; the harness only sees these.
//
// Contract shared by all families:
// - fit() sees training rows only. Anything learnt from data (scalers, vocabularies, thresholds)
//   is learnt here, never from the rows later scored.
// - Results depend only on the inputs and ctx.seed, never on ctx.threads or timing.
// - Bad input (empty table, non-numeric column where numbers are needed, a single class where two
//   are needed) is a DataError; a model that cannot be trained or produces non-finite output is a
//   ModelError. No method prints.
// - model_size_bytes() is the size of what would be saved to reproduce predictions (parameters,
//   tree nodes), measured from the fitted state, not estimated from options.
// - Instances are not thread-safe; use one per thread.
// - Diagnostics (optional): a method that has more to report than its scores (Refine's per-iteration
//   lineage, a search's chosen parameters, epochs run) returns figures and info after fit; the
//   runner stores them with the cell. Figure names should start with the method's name.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "opsbench/core/context.h"
#include "opsbench/core/matrix.h"
#include "opsbench/core/record.h"
#include "opsbench/core/table.h"

namespace opsbench {

// Unsupervised (or semi-supervised) anomaly detector. Labels in the table are ignored by fit.
class Detector {
 public:
  virtual ~Detector() = default;
  virtual void fit(const Table& train, const Context& ctx) = 0;
  // One score per row: higher = more anomalous. Finite for every row of a numeric input.
  virtual std::vector<double> score(const Table& rows, const Context& ctx) const = 0;
  virtual std::size_t model_size_bytes() const = 0;

  // Evaluation rows with labels, given before fit() to methods that report a per-iteration trace
  // on them (Refine's F1 per iteration). For diagnostics only: fit() must not learn from them.
  virtual void set_evaluation_rows(const Table& /*rows*/) {}
  virtual std::vector<Figure> diagnostics() const { return {}; }
  virtual std::map<std::string, std::string> diagnostic_info() const { return {}; }
};

// Supervised classifier over classes 0..num_classes-1.
class Classifier {
 public:
  virtual ~Classifier() = default;
  virtual void fit(const Table& train, const std::vector<int>& labels, int num_classes,
                   const Context& ctx) = 0;
  // rows x num_classes, each row summing to 1.
  virtual Matrix predict_proba(const Table& rows, const Context& ctx) const = 0;
  virtual std::size_t model_size_bytes() const = 0;

  // The labelled validation part, given before fit() when the split has one, for early stopping
  // and model selection (fine-tuned encoders stop on validation F1). Never the test rows.
  virtual void set_validation_rows(const Table& /*rows*/, const std::vector<int>& /*labels*/) {}
  virtual std::vector<Figure> diagnostics() const { return {}; }
  virtual std::map<std::string, std::string> diagnostic_info() const { return {}; }
};

}  // namespace opsbench
