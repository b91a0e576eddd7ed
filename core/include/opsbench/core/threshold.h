// Threshold policies: how a detector's continuous scores become hard 0/1 predictions.
//
// A policy is declared in the suite (never derived from test labels) and computed from training
// scores, or from a labelled validation split for best_f1_validation. A row is predicted anomalous
// when its score is strictly above the threshold: y_pred = score > t (scikit-learn's
// IsolationForest predicts an outlier when score_samples < offset_, the same rule with the sign of
// the score flipped).
//
//   contamination=c        t = (1 - c) quantile of the training scores, np.percentile with linear
//                          interpolation: scikit-learn's IsolationForest offset_ for contamination
//                          c, so a fraction of about c of the training rows ends above t.
//                          c in (0, 0.5], as scikit-learn allows.
//   train_percentile=p     t = p-th percentile of the training scores (same interpolation), p in (0, 100).
//   best_f1_validation     t maximising F1 of (validation score > t) against validation labels;
//                          t is the midpoint between the lowest included and the highest excluded
//                          validation score, so it generalises to unseen scores. On equal F1 the
//                          higher threshold wins. The value is unused (0). DataError when the
//                          validation labels have only one class.
//   fixed=t                t given as is (a threshold known in advance, e.g. from a paper).
//
// Scores must be finite; empty score vectors and size mismatches are DataError.
#pragma once

#include <string>
#include <vector>

namespace opsbench {

enum class ThresholdKind { kContamination, kTrainPercentile, kBestF1Validation, kFixed };

const char* to_string(ThresholdKind kind);  // "contamination", "train_percentile", ...

struct ThresholdPolicy {
  ThresholdKind kind = ThresholdKind::kContamination;
  double value = 0.1;

  // Kind by name and its value; ConfigError for an unknown kind (listing the valid ones) or a
  // value out of its range.
  static ThresholdPolicy parse(const std::string& kind, double value);
  // Canonical spelling for results: "contamination=0.05", "best_f1_validation".
  std::string canonical() const;
  // One line for reports: "contamination=0.05: threshold at the 95th percentile of training scores".
  std::string describe() const;
  // Whether threshold() needs validation scores and labels.
  bool needs_validation() const { return kind == ThresholdKind::kBestF1Validation; }
};

// The threshold for a policy. validation_* are used by best_f1_validation only (may be empty
// otherwise); train_scores are used by contamination and train_percentile only.
double compute_threshold(const ThresholdPolicy& policy, const std::vector<double>& train_scores,
                         const std::vector<double>& validation_scores = {},
                         const std::vector<int>& validation_labels = {});

// The F1-maximising threshold on labelled scores (see best_f1_validation above).
double best_f1_threshold(const std::vector<double>& scores, const std::vector<int>& labels);

// y_pred[i] = scores[i] > threshold ? 1 : 0.
std::vector<int> apply_threshold(const std::vector<double>& scores, double threshold);

}  // namespace opsbench
