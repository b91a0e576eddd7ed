#include "opsbench/datasets/ts_features.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "opsbench/core/error.h"
#include "opsbench/core/options.h"

namespace opsbench {

enum class TsFeatureSet::Kind {
  kMean, kMedian, kStd, kVariance, kMin, kMax, kQuantile, kSkewness, kKurtosis, kAbsEnergy,
  kSumOfChanges, kMeanAbsChange, kMeanChange, kCountAboveMean, kCountBelowMean, kLongestAbove,
  kLongestBelow, kAutocorrelation, kTrendSlope, kTrendIntercept, kNumberPeaks, kVariationCoefficient,
  kFirstMin, kLastMin, kFirstMax, kLastMax, kBenford
};

namespace {

struct Named {
  const char* name;
  TsFeatureSet::Kind kind;
};

// pandas' _zero_out_fperr: sums of powers this small are rounding noise of a constant series.
double zero_fperr(double v) { return std::fabs(v) < 1e-14 ? 0.0 : v; }

double quantile_sorted(const std::vector<double>& s, double q) {
  const double pos = q * static_cast<double>(s.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (pos - static_cast<double>(lo)) * (s[hi] - s[lo]);
}

int first_digit(double v) {
  v = std::fabs(v);
  if (v == 0.0 || !std::isfinite(v)) return 0;
  // 15 significant digits: 0.3 reads "3.00000000000000e-01", as numpy's shortest form starts.
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.14e", v);
  return buf[0] - '0';
}

}  // namespace

const std::vector<std::string>& TsFeatureSet::available() {
  static const std::vector<std::string> names = {
      "mean", "median", "std", "variance", "min", "max", "quantile", "skewness", "kurtosis", "abs_energy",
      "sum_of_changes", "mean_abs_change", "mean_change", "count_above_mean", "count_below_mean",
      "longest_strike_above_mean", "longest_strike_below_mean", "autocorrelation", "linear_trend_slope",
      "linear_trend_intercept", "number_peaks", "variation_coefficient", "first_location_of_minimum",
      "last_location_of_minimum", "first_location_of_maximum", "last_location_of_maximum", "benford_correlation"};
  return names;
}

TsFeatureSet::TsFeatureSet(const std::vector<std::string>& features, std::vector<double> quantiles,
                           std::vector<int> lags, std::vector<int> peak_supports) {
  static const Named kNamed[] = {
      {"mean", Kind::kMean}, {"median", Kind::kMedian}, {"std", Kind::kStd}, {"variance", Kind::kVariance},
      {"min", Kind::kMin}, {"max", Kind::kMax}, {"quantile", Kind::kQuantile}, {"skewness", Kind::kSkewness},
      {"kurtosis", Kind::kKurtosis}, {"abs_energy", Kind::kAbsEnergy}, {"sum_of_changes", Kind::kSumOfChanges},
      {"mean_abs_change", Kind::kMeanAbsChange}, {"mean_change", Kind::kMeanChange},
      {"count_above_mean", Kind::kCountAboveMean}, {"count_below_mean", Kind::kCountBelowMean},
      {"longest_strike_above_mean", Kind::kLongestAbove}, {"longest_strike_below_mean", Kind::kLongestBelow},
      {"autocorrelation", Kind::kAutocorrelation}, {"linear_trend_slope", Kind::kTrendSlope},
      {"linear_trend_intercept", Kind::kTrendIntercept}, {"number_peaks", Kind::kNumberPeaks},
      {"variation_coefficient", Kind::kVariationCoefficient}, {"first_location_of_minimum", Kind::kFirstMin},
      {"last_location_of_minimum", Kind::kLastMin}, {"first_location_of_maximum", Kind::kFirstMax},
      {"last_location_of_maximum", Kind::kLastMax}, {"benford_correlation", Kind::kBenford}};
  for (const auto& name : features) {
    const Named* found = nullptr;
    for (const auto& n : kNamed) {
      if (name == n.name) found = &n;
    }
    if (found == nullptr) {
      std::string valid;
      for (const auto& n : kNamed) valid += (valid.empty() ? "" : ", ") + std::string(n.name);
      throw ConfigError("unknown time-series feature '" + name + "'; valid: " + valid);
    }
    if (found->kind == Kind::kQuantile) {
      for (double q : quantiles) {
        if (!(q >= 0.0 && q <= 1.0)) throw ConfigError("feature quantile " + format_double(q) + " is not in [0, 1]");
        items_.push_back({found->kind, q});
        names_.push_back("quantile_" + format_double(q));
      }
    } else if (found->kind == Kind::kAutocorrelation) {
      for (int lag : lags) {
        if (lag < 1) throw ConfigError("autocorrelation lag must be >= 1, got " + std::to_string(lag));
        items_.push_back({found->kind, static_cast<double>(lag)});
        names_.push_back("autocorrelation_lag" + std::to_string(lag));
      }
    } else if (found->kind == Kind::kNumberPeaks) {
      for (int s : peak_supports) {
        if (s < 1) throw ConfigError("number_peaks support must be >= 1, got " + std::to_string(s));
        items_.push_back({found->kind, static_cast<double>(s)});
        names_.push_back("number_peaks_" + std::to_string(s));
      }
    } else {
      items_.push_back({found->kind, 0.0});
      names_.push_back(found->name);
    }
  }
}

TsFeatureSet TsFeatureSet::paper_default() {
  return TsFeatureSet(available(), {0.1, 0.25, 0.75, 0.9}, {1, 2, 5, 10}, {1, 3});
}

void TsFeatureSet::compute(const double* x, std::size_t n, double* out) const {
  if (n == 0) throw DataError("time-series features of an empty series");
  const double dn = static_cast<double>(n);
  const double mean = std::accumulate(x, x + n, 0.0) / dn;
  double m2 = 0, m3 = 0, m4 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = x[i] - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  const double var = m2 / dn;
  const double sd = std::sqrt(var);
  std::vector<double> sorted(x, x + n);
  std::sort(sorted.begin(), sorted.end());
  const auto [min_it, max_it] = std::minmax_element(x, x + n);  // first occurrences
  const double min = *min_it, max = *max_it;

  for (std::size_t k = 0; k < items_.size(); ++k) {
    const Item& item = items_[k];
    double v = 0;
    switch (item.kind) {
      case Kind::kMean: v = mean; break;
      case Kind::kMedian: v = quantile_sorted(sorted, 0.5); break;
      case Kind::kStd: v = sd; break;
      case Kind::kVariance: v = var; break;
      case Kind::kMin: v = min; break;
      case Kind::kMax: v = max; break;
      case Kind::kQuantile: v = quantile_sorted(sorted, item.param); break;
      case Kind::kSkewness: {
        const double a = zero_fperr(m2), b = zero_fperr(m3);
        v = (n < 3 || a == 0) ? 0.0 : (dn * std::sqrt(dn - 1) / (dn - 2)) * (b / std::pow(a, 1.5));
        break;
      }
      case Kind::kKurtosis: {
        if (n < 4) break;
        const double num = zero_fperr(dn * (dn + 1) * (dn - 1) * m4);
        const double den = zero_fperr((dn - 2) * (dn - 3) * m2 * m2);
        if (den == 0) break;
        v = num / den - 3 * (dn - 1) * (dn - 1) / ((dn - 2) * (dn - 3));
        break;
      }
      case Kind::kAbsEnergy:
        for (std::size_t i = 0; i < n; ++i) v += x[i] * x[i];
        break;
      case Kind::kSumOfChanges:
      case Kind::kMeanAbsChange:
        for (std::size_t i = 1; i < n; ++i) v += std::fabs(x[i] - x[i - 1]);
        if (item.kind == Kind::kMeanAbsChange) v = n > 1 ? v / (dn - 1) : 0.0;
        break;
      case Kind::kMeanChange: v = n > 1 ? (x[n - 1] - x[0]) / (dn - 1) : 0.0; break;
      case Kind::kCountAboveMean:
        for (std::size_t i = 0; i < n; ++i) v += x[i] > mean ? 1 : 0;
        break;
      case Kind::kCountBelowMean:
        for (std::size_t i = 0; i < n; ++i) v += x[i] < mean ? 1 : 0;
        break;
      case Kind::kLongestAbove:
      case Kind::kLongestBelow: {
        std::size_t run = 0, best = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const bool in = item.kind == Kind::kLongestAbove ? x[i] > mean : x[i] < mean;
          run = in ? run + 1 : 0;
          best = std::max(best, run);
        }
        v = static_cast<double>(best);
        break;
      }
      case Kind::kAutocorrelation: {
        const std::size_t lag = static_cast<std::size_t>(item.param);
        if (lag >= n || std::fabs(var) <= 1e-8) break;  // tsfresh: NaN (np.isclose(var, 0))
        for (std::size_t i = 0; i + lag < n; ++i) v += (x[i] - mean) * (x[i + lag] - mean);
        v /= static_cast<double>(n - lag) * var;
        break;
      }
      case Kind::kTrendSlope:
      case Kind::kTrendIntercept: {
        const double tmean = (dn - 1) / 2;
        double sxy = 0, sxx = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const double dt = static_cast<double>(i) - tmean;
          sxy += dt * (x[i] - mean);
          sxx += dt * dt;
        }
        const double slope = sxx > 0 ? sxy / sxx : 0.0;
        v = item.kind == Kind::kTrendSlope ? slope : mean - slope * tmean;
        break;
      }
      case Kind::kNumberPeaks: {
        const std::size_t s = static_cast<std::size_t>(item.param);
        for (std::size_t i = s; i + s < n; ++i) {
          bool peak = true;
          for (std::size_t j = 1; j <= s && peak; ++j) peak = x[i] > x[i - j] && x[i] > x[i + j];
          v += peak ? 1 : 0;
        }
        break;
      }
      case Kind::kVariationCoefficient: v = mean != 0 ? sd / mean : 0.0; break;
      case Kind::kFirstMin: v = static_cast<double>(min_it - x) / dn; break;
      case Kind::kFirstMax: v = static_cast<double>(max_it - x) / dn; break;
      case Kind::kLastMin:
      case Kind::kLastMax: {
        const double target = item.kind == Kind::kLastMin ? min : max;
        std::size_t last = n - 1;
        while (x[last] != target) --last;
        v = static_cast<double>(last + 1) / dn;
        break;
      }
      case Kind::kBenford: {
        double dist[9] = {0};
        for (std::size_t i = 0; i < n; ++i) {
          const int d = first_digit(x[i]);
          if (d >= 1 && d <= 9) dist[d - 1] += 1.0 / dn;
        }
        double ben[9];
        for (int d = 0; d < 9; ++d) ben[d] = std::log10(1.0 + 1.0 / (d + 1));
        double mb = 0, md = 0;
        for (int d = 0; d < 9; ++d) {
          mb += ben[d] / 9;
          md += dist[d] / 9;
        }
        double sbd = 0, sbb = 0, sdd = 0;
        for (int d = 0; d < 9; ++d) {
          sbd += (ben[d] - mb) * (dist[d] - md);
          sbb += (ben[d] - mb) * (ben[d] - mb);
          sdd += (dist[d] - md) * (dist[d] - md);
        }
        v = sdd > 0 ? sbd / std::sqrt(sbb * sdd) : 0.0;
        break;
      }
    }
    out[k] = v;
  }
}

std::vector<double> chi2_scores(const Matrix& x, const std::vector<int>& labels, int num_classes) {
  if (labels.size() != x.rows) throw DataError("chi2: " + std::to_string(labels.size()) + " labels for " + std::to_string(x.rows) + " rows");
  std::vector<double> observed(static_cast<std::size_t>(num_classes) * x.cols, 0.0);
  std::vector<double> class_count(static_cast<std::size_t>(num_classes), 0.0);
  std::vector<double> total(x.cols, 0.0);
  for (std::size_t r = 0; r < x.rows; ++r) {
    const int c = labels[r];
    if (c < 0 || c >= num_classes) throw DataError("chi2: label " + std::to_string(c) + " out of range");
    class_count[static_cast<std::size_t>(c)] += 1;
    const double* row = x.row(r);
    for (std::size_t j = 0; j < x.cols; ++j) {
      if (row[j] < 0) throw DataError("chi2: feature " + std::to_string(j) + " has a negative value (scale to [0,1] first)");
      observed[static_cast<std::size_t>(c) * x.cols + j] += row[j];
      total[j] += row[j];
    }
  }
  std::vector<double> out(x.cols, 0.0);
  const double n = static_cast<double>(x.rows);
  for (std::size_t j = 0; j < x.cols; ++j) {
    double s = 0;
    for (int c = 0; c < num_classes; ++c) {
      const double expected = class_count[static_cast<std::size_t>(c)] / n * total[j];
      const double d = observed[static_cast<std::size_t>(c) * x.cols + j] - expected;
      s += d * d / expected;  // 0/0 = NaN for an all-zero column, as scikit-learn
    }
    out[j] = s;
  }
  return out;
}

std::vector<std::size_t> top_k(const std::vector<double>& scores, std::size_t k) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const bool na = std::isnan(scores[a]), nb = std::isnan(scores[b]);
    if (na != nb) return nb;  // numbers before NaN
    if (na) return false;
    return scores[a] > scores[b];
  });
  order.resize(std::min(k, order.size()));
  std::sort(order.begin(), order.end());
  return order;
}

}  // namespace opsbench
