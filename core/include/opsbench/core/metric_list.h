// register_metrics(): adds every metric opsbench computes to a registry, one explicit list.
//
// Metrics read a MetricInput (metrics.h). Names and what they read:
//   accuracy, precision, recall, f1            y_pred (binary, class 1 positive)
//   f1_macro, f1_weighted, precision_macro,
//   recall_macro                               y_pred with num_classes
//   roc_auc, average_precision                 scores (binary)
//   roc_auc_hard, average_precision_hard       y_pred as a 0/1 score: the Flow-Bench paper's
//                                              hard-label protocol, kept apart from roc_auc
//   precision_at_k                             scores, k = number of positives in y_true
//   roc_auc_ovr_macro, roc_auc_ovr_weighted    proba (classifiers only; DataError when empty)
// Every metric is higher-is-better. A metric that is undefined for the cell throws DataError.
#pragma once

namespace opsbench {
class Registry;
void register_metrics(Registry& registry);
}  // namespace opsbench
