// Threshold policies (contract in threshold.h).
#include "opsbench/core/threshold.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "opsbench/core/error.h"
#include "opsbench/core/statistics.h"

namespace opsbench {
namespace {

void require_finite(const std::vector<double>& scores, const char* what) {
  if (scores.empty()) throw DataError(fmt::format("threshold: {} scores are empty", what));
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) {
      throw DataError(fmt::format("threshold: {} score of row {} is not finite ({})", what, i, scores[i]));
    }
  }
}

// "95th", "99.5th": ordinal suffix for report lines.
std::string ordinal(double p) {
  const std::string number = fmt::format("{:g}", p);
  if (std::floor(p) != p) return number + "th";
  const long n = static_cast<long>(p);
  if (n % 100 >= 11 && n % 100 <= 13) return number + "th";
  switch (n % 10) {
    case 1:
      return number + "st";
    case 2:
      return number + "nd";
    case 3:
      return number + "rd";
    default:
      return number + "th";
  }
}

}  // namespace

const char* to_string(ThresholdKind kind) {
  switch (kind) {
    case ThresholdKind::kContamination:
      return "contamination";
    case ThresholdKind::kTrainPercentile:
      return "train_percentile";
    case ThresholdKind::kBestF1Validation:
      return "best_f1_validation";
    case ThresholdKind::kFixed:
      return "fixed";
  }
  return "?";
}

ThresholdPolicy ThresholdPolicy::parse(const std::string& kind, double value) {
  ThresholdPolicy policy;
  policy.value = value;
  if (kind == "contamination") {
    policy.kind = ThresholdKind::kContamination;
    if (!(value > 0.0 && value <= 0.5)) {
      throw ConfigError(fmt::format("threshold contamination must be in (0, 0.5], got {}", value));
    }
  } else if (kind == "train_percentile") {
    policy.kind = ThresholdKind::kTrainPercentile;
    if (!(value > 0.0 && value < 100.0)) {
      throw ConfigError(fmt::format("threshold train_percentile must be in (0, 100), got {}", value));
    }
  } else if (kind == "best_f1_validation") {
    policy.kind = ThresholdKind::kBestF1Validation;
    policy.value = 0.0;
  } else if (kind == "fixed") {
    policy.kind = ThresholdKind::kFixed;
    if (!std::isfinite(value)) throw ConfigError(fmt::format("threshold fixed must be finite, got {}", value));
  } else {
    throw ConfigError(
        fmt::format("unknown threshold policy '{}'; valid: contamination, train_percentile, "
                    "best_f1_validation, fixed",
                    kind));
  }
  return policy;
}

std::string ThresholdPolicy::canonical() const {
  if (kind == ThresholdKind::kBestF1Validation) return to_string(kind);
  return fmt::format("{}={}", to_string(kind), value);
}

std::string ThresholdPolicy::describe() const {
  switch (kind) {
    case ThresholdKind::kContamination:
      return fmt::format(
          "{}: threshold at the {} percentile of training scores (scikit-learn "
          "IsolationForest offset_)",
          canonical(), ordinal(100.0 * (1.0 - value)));
    case ThresholdKind::kTrainPercentile:
      return fmt::format("{}: threshold at the {} percentile of training scores", canonical(), ordinal(value));
    case ThresholdKind::kBestF1Validation:
      return fmt::format("{}: threshold maximising F1 on the labelled validation split", canonical());
    case ThresholdKind::kFixed:
      return fmt::format("{}: threshold fixed in advance", canonical());
  }
  return canonical();
}

double compute_threshold(const ThresholdPolicy& policy, const std::vector<double>& train_scores,
                         const std::vector<double>& validation_scores, const std::vector<int>& validation_labels) {
  switch (policy.kind) {
    case ThresholdKind::kContamination:
      require_finite(train_scores, "training");
      return percentile_linear(train_scores, 100.0 * (1.0 - policy.value));
    case ThresholdKind::kTrainPercentile:
      require_finite(train_scores, "training");
      return percentile_linear(train_scores, policy.value);
    case ThresholdKind::kBestF1Validation:
      return best_f1_threshold(validation_scores, validation_labels);
    case ThresholdKind::kFixed:
      return policy.value;
  }
  return policy.value;
}

double best_f1_threshold(const std::vector<double>& scores, const std::vector<int>& labels) {
  require_finite(scores, "validation");
  if (scores.size() != labels.size()) {
    throw DataError(
        fmt::format("best_f1_validation: {} validation scores but {} labels", scores.size(), labels.size()));
  }
  std::size_t positives = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] != 0 && labels[i] != 1) {
      throw DataError(fmt::format("best_f1_validation: labels must be 0 or 1, row {} has {}", i, labels[i]));
    }
    positives += static_cast<std::size_t>(labels[i]);
  }
  if (positives == 0 || positives == labels.size()) {
    throw DataError(fmt::format("best_f1_validation is undefined: validation labels have only one class (all {})",
                                positives == 0 ? 0 : 1));
  }
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  // Sweep the cut down through groups of tied scores: after a group, every row with a score >= the
  // group's score is predicted anomalous. F1 = 2 tp / (2 tp + fp + fn) = 2 tp / (predicted + positives).
  double best_f1 = -1.0;
  std::size_t best_end = 0;  // rows [0, best_end) of `order` are predicted anomalous
  std::size_t tp = 0;
  for (std::size_t i = 0; i < order.size();) {
    const double v = scores[order[i]];
    std::size_t j = i;
    for (; j < order.size() && scores[order[j]] == v; ++j) tp += static_cast<std::size_t>(labels[order[j]]);
    const double f = 2.0 * static_cast<double>(tp) / static_cast<double>(j + positives);
    if (f > best_f1) {  // strict: on equal F1 the earlier (higher) cut stays
      best_f1 = f;
      best_end = j;
    }
    i = j;
  }
  const double lowest_in = scores[order[best_end - 1]];
  if (best_end == order.size()) {
    // Everything predicted anomalous: just below the lowest validation score.
    return std::nextafter(lowest_in, -HUGE_VAL);
  }
  const double highest_out = scores[order[best_end]];
  const double mid = lowest_in / 2.0 + highest_out / 2.0;
  // Adjacent doubles can round the midpoint onto lowest_in; the excluded score is then the cut.
  return (mid < lowest_in && mid >= highest_out) ? mid : highest_out;
}

std::vector<int> apply_threshold(const std::vector<double>& scores, double threshold) {
  std::vector<int> y_pred(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i) y_pred[i] = scores[i] > threshold ? 1 : 0;
  return y_pred;
}

}  // namespace opsbench
