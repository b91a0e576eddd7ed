// Metrics: pure functions of labels and scores, checked against scikit-learn.
//
// Conventions follow scikit-learn 1.2.1 (the version the unit tests' reference values come from):
// - Binary metrics take y_true in {0,1} with 1 = positive (anomalous).
// - roc_auc and average_precision treat tied scores as scikit-learn does (ties form one threshold
//   step; ROC uses the trapezoid over that step, AP the step function with no interpolation).
// - precision/recall/F1 return 0 where the denominator is 0 (scikit-learn's zero_division=0).
// - Functions that are undefined for the input (one class only for AUC, empty input) throw
//   DataError with a message that says why; they never return NaN silently.
// precision_at_k is the expected precision of the top k under a uniformly random order of tied
// scores (tie-free), so it does not depend on row order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "opsbench/core/matrix.h"

namespace opsbench {

enum class Average { kBinary, kMacro, kWeighted };

struct ConfusionMatrix {
  int num_classes = 0;
  std::vector<std::int64_t> counts;  // row = true class, column = predicted class
  std::int64_t at(int truth, int predicted) const { return counts[truth * num_classes + predicted]; }
};

double accuracy(const std::vector<int>& y_true, const std::vector<int>& y_pred);
ConfusionMatrix confusion_matrix(const std::vector<int>& y_true, const std::vector<int>& y_pred,
                                 int num_classes);
double precision(const std::vector<int>& y_true, const std::vector<int>& y_pred, Average average,
                 int num_classes = 2);
double recall(const std::vector<int>& y_true, const std::vector<int>& y_pred, Average average,
              int num_classes = 2);
double f1(const std::vector<int>& y_true, const std::vector<int>& y_pred, Average average,
          int num_classes = 2);

// Binary ROC-AUC from continuous scores (higher = more positive).
double roc_auc(const std::vector<int>& y_true, const std::vector<double>& scores);
// Multiclass one-vs-rest ROC-AUC from probabilities (rows x classes); kMacro or kWeighted.
double roc_auc_ovr(const std::vector<int>& y_true, const Matrix& proba, Average average);
double average_precision(const std::vector<int>& y_true, const std::vector<double>& scores);
double precision_at_k(const std::vector<int>& y_true, const std::vector<double>& scores, std::size_t k);

struct Interval {
  double low = 0;
  double high = 0;
};
// Percentile bootstrap 95% (or `level`) interval of `metric` over resampled rows; deterministic for
// a seed. Resamples where the metric is undefined (e.g. one class) are skipped and counted.
Interval bootstrap_interval(const std::vector<int>& y_true, const std::vector<double>& scores,
                            const std::function<double(const std::vector<int>&, const std::vector<double>&)>& metric,
                            int resamples, double level, std::uint64_t seed);
// Mean and two-sided Student-t interval of a sample of values (e.g. one metric over seeds).
// Half-width 0 for a single value.
struct MeanCi {
  double mean = 0;
  double half_width = 0;
  double stddev = 0;  // sample standard deviation (n - 1); 0 for a single value
  std::size_t n = 0;
};
MeanCi mean_ci(const std::vector<double>& values, double level = 0.95);

// What a metric needs, prepared by the runner for one evaluated cell.
struct MetricInput {
  std::vector<int> y_true;
  std::vector<double> scores;   // detector: anomaly score; binary classifier: P(class 1)
  Matrix proba;                 // classifier: rows x classes (empty for detectors)
  std::vector<int> y_pred;      // hard predictions at the declared threshold policy
  int num_classes = 2;
};

struct MetricEntry {
  std::string name;
  std::string description;
  bool higher_is_better = true;
  std::function<double(const MetricInput&)> compute;
};

}  // namespace opsbench
