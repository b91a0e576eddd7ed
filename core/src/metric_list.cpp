// The metric list (see metric_list.h).
#include "opsbench/core/metric_list.h"

#include <string>
#include <utility>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/core/metrics.h"
#include "opsbench/core/registry.h"

namespace opsbench {
namespace {

std::vector<double> as_scores(const std::vector<int>& y_pred) {
  return std::vector<double>(y_pred.begin(), y_pred.end());
}

const Matrix& require_proba(const MetricInput& in, const char* metric) {
  if (in.proba.rows == 0) {
    throw DataError(std::string(metric) +
                    " needs class probabilities; this method gives none (detectors "
                    "produce scores only)");
  }
  return in.proba;
}

MetricEntry entry(std::string name, std::string description, std::function<double(const MetricInput&)> compute) {
  MetricEntry e;
  e.name = std::move(name);
  e.description = std::move(description);
  e.higher_is_better = true;
  e.compute = std::move(compute);
  return e;
}

}  // namespace

void register_metrics(Registry& registry) {
  registry.add(entry("accuracy", "fraction of rows with y_pred == y_true",
                     [](const MetricInput& in) { return accuracy(in.y_true, in.y_pred); }));
  registry.add(entry("precision", "binary precision of y_pred, class 1 positive (0 when nothing predicted)",
                     [](const MetricInput& in) { return precision(in.y_true, in.y_pred, Average::kBinary); }));
  registry.add(entry("recall", "binary recall of y_pred, class 1 positive",
                     [](const MetricInput& in) { return recall(in.y_true, in.y_pred, Average::kBinary); }));
  registry.add(entry("f1", "binary F1 of y_pred, class 1 positive",
                     [](const MetricInput& in) { return f1(in.y_true, in.y_pred, Average::kBinary); }));
  registry.add(entry("f1_macro", "unweighted mean of per-class F1 over classes present in y_true or y_pred",
                     [](const MetricInput& in) { return f1(in.y_true, in.y_pred, Average::kMacro, in.num_classes); }));
  registry.add(
      entry("f1_weighted", "per-class F1 averaged with weights = true class support",
            [](const MetricInput& in) { return f1(in.y_true, in.y_pred, Average::kWeighted, in.num_classes); }));
  registry.add(entry("precision_macro", "unweighted mean of per-class precision", [](const MetricInput& in) {
    return precision(in.y_true, in.y_pred, Average::kMacro, in.num_classes);
  }));
  registry.add(
      entry("recall_macro", "unweighted mean of per-class recall (balanced accuracy when all present)",
            [](const MetricInput& in) { return recall(in.y_true, in.y_pred, Average::kMacro, in.num_classes); }));
  registry.add(entry("roc_auc", "binary ROC-AUC of the continuous scores (ties as scikit-learn)",
                     [](const MetricInput& in) { return roc_auc(in.y_true, in.scores); }));
  registry.add(entry("roc_auc_hard", "ROC-AUC of the 0/1 predictions (Flow-Bench paper's hard-label protocol)",
                     [](const MetricInput& in) { return roc_auc(in.y_true, as_scores(in.y_pred)); }));
  registry.add(entry("average_precision", "average precision of the scores (step function, no interpolation)",
                     [](const MetricInput& in) { return average_precision(in.y_true, in.scores); }));
  registry.add(entry("average_precision_hard", "average precision of the 0/1 predictions (Flow-Bench protocol)",
                     [](const MetricInput& in) { return average_precision(in.y_true, as_scores(in.y_pred)); }));
  registry.add(entry("precision_at_k", "precision of the k top-scored rows, k = number of positives (tie-free)",
                     [](const MetricInput& in) {
                       std::size_t k = 0;
                       for (int y : in.y_true) k += y == 1 ? 1 : 0;
                       if (k == 0) throw DataError("precision_at_k is undefined: y_true has no positive row (k = 0)");
                       return precision_at_k(in.y_true, in.scores, k);
                     }));
  registry.add(entry("roc_auc_ovr_macro", "one-vs-rest ROC-AUC of the class probabilities, unweighted mean",
                     [](const MetricInput& in) {
                       return roc_auc_ovr(in.y_true, require_proba(in, "roc_auc_ovr_macro"), Average::kMacro);
                     }));
  registry.add(entry("roc_auc_ovr_weighted", "one-vs-rest ROC-AUC of the class probabilities, prevalence-weighted",
                     [](const MetricInput& in) {
                       return roc_auc_ovr(in.y_true, require_proba(in, "roc_auc_ovr_weighted"), Average::kWeighted);
                     }));
}

}  // namespace opsbench
