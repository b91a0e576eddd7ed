// Metrics with scikit-learn 1.2.1 semantics (see metrics.h); reference values in
// tests/core/metrics_test.cpp come from tests/reference/make_metric_refs.py.
//
// Ranking metrics sort (score, label) pairs once, descending, and walk groups of tied scores: a
// group is one threshold of scikit-learn's _binary_clf_curve, so ties are handled exactly as there.
// ROC-AUC is then accumulated in integers (twice the trapezoid area in units of one positive x one
// negative) and divided once, which is exact up to the final rounding.
#include "opsbench/core/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/core/portable_random.h"
#include "opsbench/core/statistics.h"

namespace opsbench {
namespace {

void require_same_size(std::size_t a, std::size_t b, const char* what_a, const char* what_b, const char* metric) {
  if (a != b) {
    throw DataError(fmt::format("{}: {} has {} values but {} has {}", metric, what_a, a, what_b, b));
  }
  if (a == 0) throw DataError(fmt::format("{} is undefined for empty input", metric));
}

// Checks y_true in {0,1} and scores finite; returns the number of positives.
std::size_t check_binary_scores(const std::vector<int>& y_true, const std::vector<double>& scores, const char* metric) {
  require_same_size(y_true.size(), scores.size(), "y_true", "scores", metric);
  std::size_t positives = 0;
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    if (y_true[i] != 0 && y_true[i] != 1) {
      throw DataError(fmt::format("{}: y_true must be 0 or 1, row {} has {}", metric, i, y_true[i]));
    }
    if (!std::isfinite(scores[i])) {
      throw DataError(fmt::format("{}: score of row {} is not finite ({})", metric, i, scores[i]));
    }
    positives += static_cast<std::size_t>(y_true[i]);
  }
  return positives;
}

// One threshold of the curve: the rows sharing one score value.
struct TieGroup {
  std::int64_t tp = 0;
  std::int64_t fp = 0;
};

// Groups of tied scores in descending score order.
std::vector<TieGroup> tie_groups(const std::vector<int>& y_true, const std::vector<double>& scores) {
  struct Row {
    double score;
    int label;
  };
  std::vector<Row> rows(y_true.size());
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = {scores[i], y_true[i]};
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.score > b.score; });
  std::vector<TieGroup> groups;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i == 0 || rows[i].score != rows[i - 1].score) groups.emplace_back();
    (rows[i].label == 1 ? groups.back().tp : groups.back().fp) += 1;
  }
  return groups;
}

double binary_auc(const std::vector<int>& y_true, const std::vector<double>& scores, const char* metric) {
  const std::size_t positives = check_binary_scores(y_true, scores, metric);
  const std::size_t negatives = y_true.size() - positives;
  if (positives == 0 || negatives == 0) {
    throw DataError(fmt::format("{} is undefined: y_true has only one class (all {})", metric, positives == 0 ? 0 : 1));
  }
  // Trapezoid of one group: width fp, heights tp_before and tp_before + tp -> fp*(2*tp_before+tp)/2.
  std::int64_t twice_area = 0;
  std::int64_t tp_before = 0;
  for (const TieGroup& g : tie_groups(y_true, scores)) {
    twice_area += g.fp * (2 * tp_before + g.tp);
    tp_before += g.tp;
  }
  return static_cast<double>(twice_area) / (2.0 * static_cast<double>(positives) * static_cast<double>(negatives));
}

}  // namespace

double accuracy(const std::vector<int>& y_true, const std::vector<int>& y_pred) {
  require_same_size(y_true.size(), y_pred.size(), "y_true", "y_pred", "accuracy");
  std::size_t correct = 0;
  for (std::size_t i = 0; i < y_true.size(); ++i) correct += (y_true[i] == y_pred[i]) ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(y_true.size());
}

ConfusionMatrix confusion_matrix(const std::vector<int>& y_true, const std::vector<int>& y_pred, int num_classes) {
  require_same_size(y_true.size(), y_pred.size(), "y_true", "y_pred", "confusion matrix");
  if (num_classes < 1)
    throw ConfigError(fmt::format("confusion matrix: num_classes must be >= 1, got {}", num_classes));
  ConfusionMatrix cm;
  cm.num_classes = num_classes;
  cm.counts.assign(static_cast<std::size_t>(num_classes) * static_cast<std::size_t>(num_classes), 0);
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    const int t = y_true[i];
    const int p = y_pred[i];
    if (t < 0 || t >= num_classes || p < 0 || p >= num_classes) {
      throw DataError(fmt::format("confusion matrix: labels must be in [0, {}), row {} has true {} predicted {}",
                                  num_classes, i, t, p));
    }
    ++cm.counts[static_cast<std::size_t>(t) * num_classes + p];
  }
  return cm;
}

namespace {

enum class Prf { kPrecision, kRecall, kF1 };

// precision_recall_fscore_support with zero_division=0. Macro averages over the classes present
// in y_true or y_pred (scikit-learn's unique_labels), weighted by true support.
double prf(const std::vector<int>& y_true, const std::vector<int>& y_pred, Average average, int num_classes, Prf which,
           const char* metric) {
  if (average == Average::kBinary && num_classes != 2) {
    throw ConfigError(fmt::format("{}: average=binary needs 2 classes, got num_classes={}", metric, num_classes));
  }
  const ConfusionMatrix cm = confusion_matrix(y_true, y_pred, num_classes);
  auto score_of = [&](int c, std::int64_t* support, bool* present) {
    std::int64_t tp = cm.at(c, c), predicted = 0, truth = 0;
    for (int k = 0; k < num_classes; ++k) {
      predicted += cm.at(k, c);
      truth += cm.at(c, k);
    }
    *support = truth;
    *present = truth + predicted > 0;
    const double p = predicted == 0 ? 0.0 : static_cast<double>(tp) / static_cast<double>(predicted);
    const double r = truth == 0 ? 0.0 : static_cast<double>(tp) / static_cast<double>(truth);
    switch (which) {
      case Prf::kPrecision:
        return p;
      case Prf::kRecall:
        return r;
      case Prf::kF1:
        return p + r == 0.0 ? 0.0 : 2.0 * p * r / (p + r);
    }
    return 0.0;
  };
  std::int64_t support = 0;
  bool present = false;
  if (average == Average::kBinary) return score_of(1, &support, &present);
  double sum = 0.0, weight_sum = 0.0;
  int count = 0;
  for (int c = 0; c < num_classes; ++c) {
    const double s = score_of(c, &support, &present);
    if (average == Average::kMacro) {
      if (present) {
        sum += s;
        ++count;
      }
    } else {
      sum += s * static_cast<double>(support);
      weight_sum += static_cast<double>(support);
    }
  }
  if (average == Average::kMacro) return count == 0 ? 0.0 : sum / count;
  return weight_sum == 0.0 ? 0.0 : sum / weight_sum;
}

}  // namespace

double precision(const std::vector<int>& y_true, const std::vector<int>& y_pred, Average average, int num_classes) {
  return prf(y_true, y_pred, average, num_classes, Prf::kPrecision, "precision");
}

double recall(const std::vector<int>& y_true, const std::vector<int>& y_pred, Average average, int num_classes) {
  return prf(y_true, y_pred, average, num_classes, Prf::kRecall, "recall");
}

double f1(const std::vector<int>& y_true, const std::vector<int>& y_pred, Average average, int num_classes) {
  return prf(y_true, y_pred, average, num_classes, Prf::kF1, "F1");
}

double roc_auc(const std::vector<int>& y_true, const std::vector<double>& scores) {
  return binary_auc(y_true, scores, "ROC-AUC");
}

double roc_auc_ovr(const std::vector<int>& y_true, const Matrix& proba, Average average) {
  if (average == Average::kBinary) {
    throw ConfigError("one-vs-rest ROC-AUC: average must be macro or weighted, not binary");
  }
  require_same_size(y_true.size(), proba.rows, "y_true", "proba rows", "one-vs-rest ROC-AUC");
  const std::size_t classes = proba.cols;
  if (classes < 2) throw DataError(fmt::format("one-vs-rest ROC-AUC needs >= 2 probability columns, got {}", classes));
  std::vector<std::size_t> support(classes, 0);
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    if (y_true[i] < 0 || static_cast<std::size_t>(y_true[i]) >= classes) {
      throw DataError(
          fmt::format("one-vs-rest ROC-AUC: y_true must be in [0, {}), row {} has {}", classes, i, y_true[i]));
    }
    ++support[static_cast<std::size_t>(y_true[i])];
    // scikit-learn rejects scores that are not probabilities (np.allclose(1, row sum)).
    double row_sum = 0.0;
    for (std::size_t c = 0; c < classes; ++c) row_sum += proba(i, c);
    if (!(std::fabs(row_sum - 1.0) <= 1e-8 + 1e-5 * std::fabs(row_sum))) {
      throw DataError(fmt::format("one-vs-rest ROC-AUC: probabilities of row {} sum to {}, not 1", i, row_sum));
    }
  }
  for (std::size_t c = 0; c < classes; ++c) {
    if (support[c] == 0) {
      throw DataError(
          fmt::format("one-vs-rest ROC-AUC is undefined: class {} does not occur in y_true "
                      "({} probability columns)",
                      c, classes));
    }
  }
  std::vector<int> is_class(y_true.size());
  std::vector<double> column(y_true.size());
  double sum = 0.0;
  for (std::size_t c = 0; c < classes; ++c) {
    for (std::size_t i = 0; i < y_true.size(); ++i) {
      is_class[i] = static_cast<std::size_t>(y_true[i]) == c ? 1 : 0;
      column[i] = proba(i, c);
    }
    const double auc = binary_auc(is_class, column, "one-vs-rest ROC-AUC");
    sum += average == Average::kMacro ? auc : auc * static_cast<double>(support[c]);
  }
  return average == Average::kMacro ? sum / static_cast<double>(classes) : sum / static_cast<double>(y_true.size());
}

double average_precision(const std::vector<int>& y_true, const std::vector<double>& scores) {
  const std::size_t positives = check_binary_scores(y_true, scores, "average precision");
  if (positives == 0) {
    // scikit-learn returns 0 with a warning here; a number that means "undefined" is worse.
    throw DataError("average precision is undefined: y_true has no positive row (all 0)");
  }
  // AP = sum over thresholds of (recall step) x (precision at that threshold), no interpolation.
  const double total = static_cast<double>(positives);
  std::int64_t tp = 0, fp = 0;
  double ap = 0.0;
  for (const TieGroup& g : tie_groups(y_true, scores)) {
    tp += g.tp;
    fp += g.fp;
    if (g.tp > 0) {
      ap += (static_cast<double>(g.tp) / total) * (static_cast<double>(tp) / static_cast<double>(tp + fp));
    }
  }
  return ap;
}

double precision_at_k(const std::vector<int>& y_true, const std::vector<double>& scores, std::size_t k) {
  check_binary_scores(y_true, scores, "precision@k");
  if (k == 0 || k > y_true.size()) {
    throw DataError(
        fmt::format("precision@k is undefined for k={} with {} rows (need 1 <= k <= rows)", k, y_true.size()));
  }
  // Only the k-th largest score is needed: nth_element is O(n), no full sort.
  std::vector<double> sorted(scores);
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(k - 1), sorted.end(),
                   std::greater<double>());
  const double kth = sorted[k - 1];
  std::size_t above = 0, above_pos = 0, tied = 0, tied_pos = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] > kth) {
      ++above;
      above_pos += static_cast<std::size_t>(y_true[i]);
    } else if (scores[i] == kth) {
      ++tied;
      tied_pos += static_cast<std::size_t>(y_true[i]);
    }
  }
  // The k - above places left go to a uniformly random subset of the tied rows: each tied row is
  // in the top k with probability needed / tied.
  const double needed = static_cast<double>(k - above);
  const double expected_pos =
      static_cast<double>(above_pos) + needed * static_cast<double>(tied_pos) / static_cast<double>(tied);
  return expected_pos / static_cast<double>(k);
}

Interval bootstrap_interval(const std::vector<int>& y_true, const std::vector<double>& scores,
                            const std::function<double(const std::vector<int>&, const std::vector<double>&)>& metric,
                            int resamples, double level, std::uint64_t seed) {
  return bootstrap_interval(y_true, scores, metric, resamples, level, seed, nullptr);
}

Interval bootstrap_interval(const std::vector<int>& y_true, const std::vector<double>& scores,
                            const std::function<double(const std::vector<int>&, const std::vector<double>&)>& metric,
                            int resamples, double level, std::uint64_t seed, BootstrapCounts* counts) {
  require_same_size(y_true.size(), scores.size(), "y_true", "scores", "bootstrap interval");
  if (resamples < 1) throw ConfigError(fmt::format("bootstrap interval: resamples must be >= 1, got {}", resamples));
  if (!(level > 0.0 && level < 1.0)) {
    throw ConfigError(fmt::format("bootstrap interval: level must be in (0, 1), got {}", level));
  }
  std::mt19937_64 engine(seed);
  const std::size_t n = y_true.size();
  std::vector<int> y(n);
  std::vector<double> s(n);
  std::vector<double> values;
  values.reserve(static_cast<std::size_t>(resamples));
  int skipped = 0;
  for (int r = 0; r < resamples; ++r) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto j = static_cast<std::size_t>(uniform_below(engine, n));
      y[i] = y_true[j];
      s[i] = scores[j];
    }
    try {
      values.push_back(metric(y, s));
    } catch (const DataError&) {
      ++skipped;  // undefined on this resample (e.g. one class drawn): not a value of the metric
    }
  }
  if (counts != nullptr) {
    counts->used = static_cast<int>(values.size());
    counts->skipped = skipped;
  }
  if (values.empty()) {
    throw DataError(
        fmt::format("bootstrap interval is undefined: the metric was undefined on all {} resamples", skipped));
  }
  Interval out;
  out.low = percentile_linear(values, 100.0 * (1.0 - level) / 2.0);
  out.high = percentile_linear(values, 100.0 * (1.0 + level) / 2.0);
  return out;
}

MeanCi mean_ci(const std::vector<double>& values, double level) {
  if (values.empty()) throw DataError("mean and confidence interval are undefined for no values");
  if (!(level > 0.0 && level < 1.0)) throw ConfigError(fmt::format("mean_ci: level must be in (0, 1), got {}", level));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) throw DataError(fmt::format("mean_ci: value {} is not finite ({})", i, values[i]));
  }
  MeanCi out;
  out.n = values.size();
  double sum = 0.0;
  for (double v : values) sum += v;
  out.mean = sum / static_cast<double>(out.n);
  if (out.n == 1) return out;
  double squares = 0.0;
  for (double v : values) squares += (v - out.mean) * (v - out.mean);
  const double df = static_cast<double>(out.n - 1);
  const double sd = std::sqrt(squares / df);
  out.stddev = sd;
  out.half_width = student_t_quantile(level, df) * sd / std::sqrt(static_cast<double>(out.n));
  return out;
}

}  // namespace opsbench
