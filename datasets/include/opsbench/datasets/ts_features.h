// tsfresh-style time-series features and chi-square feature selection.
//
// TsFeatureSet computes a declared list of features of one series (one metric over one sample).
// Definitions follow tsfresh 0.20's feature_calculators; where tsfresh returns NaN (constant series,
// zero mean) this returns 0, so that a feature matrix is always finite — the choice is declared per
// feature below:
//   mean, median, std (population, ddof 0), variance (population), min, max,
//   quantile_<q> for each declared q (numpy.quantile, linear interpolation),
//   skewness (adjusted Fisher-Pearson G1 as pandas' Series.skew; 0 when n < 3 or constant),
//   kurtosis (bias-corrected excess G2 as pandas' Series.kurt; 0 when n < 4 or constant),
//   abs_energy (sum x^2), sum_of_changes (sum |x[t+1]-x[t]|), mean_abs_change, mean_change
//   ((x[n-1]-x[0])/(n-1), tsfresh's definition), count_above_mean, count_below_mean (strict),
//   longest_strike_above_mean, longest_strike_below_mean (strict),
//   autocorrelation_lag<l> for each declared lag (tsfresh: sum (x_t - m)(x_{t+l} - m) / ((n-l) var);
//   0 when the series is constant or l >= n),
//   linear_trend_slope, linear_trend_intercept (least squares on t = 0..n-1, scipy linregress),
//   number_peaks_<s> (values greater than their s neighbours on each side, tsfresh number_peaks),
//   variation_coefficient (std / mean; 0 when mean = 0),
//   first_location_of_minimum, last_location_of_minimum, first_location_of_maximum,
//   last_location_of_maximum (index / n, as tsfresh),
//   benford_correlation (Pearson correlation of the first-digit distribution of |x| with Benford's
//   law; digit of 0 is 0 and counts in no bin; 0 when the distribution is constant).
// Thread-safety: compute() is const and reentrant.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "opsbench/core/matrix.h"

namespace opsbench {

class TsFeatureSet {
 public:
  // `features`: names from available(); "quantile", "autocorrelation" and "number_peaks" expand with
  // the given quantiles, lags and peak supports. Unknown names are a ConfigError listing the valid ones.
  TsFeatureSet(const std::vector<std::string>& features, std::vector<double> quantiles, std::vector<int> lags,
               std::vector<int> peak_supports);

  // The default declared list (every feature, quantiles 0.1/0.25/0.75/0.9, lags 1/2/5/10, support 1/3).
  static TsFeatureSet paper_default();
  static const std::vector<std::string>& available();

  // Expanded output names, e.g. "mean", "quantile_0.25", "autocorrelation_lag1".
  const std::vector<std::string>& names() const { return names_; }
  std::size_t size() const { return names_.size(); }
  // Writes size() values for series x[0..n) (n >= 1) into out.
  void compute(const double* x, std::size_t n, double* out) const;

 // Feature kinds (defined in the .cpp; public only so the name table there can refer to them).
  enum class Kind;

 private:
  struct Item {
    Kind kind;
    double param;
  };
  std::vector<Item> items_;
  std::vector<std::string> names_;
};

// scikit-learn 1.2.1's sklearn.feature_selection.chi2 on non-negative features x (rows x cols) with
// integer class labels 0..num_classes-1: per column, sum over classes of (observed - expected)^2 /
// expected, observed = per-class column sums, expected = class share * column sum. A column whose
// sum is 0 gives NaN, as scikit-learn (0/0). DataError on a negative value or a size mismatch.
std::vector<double> chi2_scores(const Matrix& x, const std::vector<int>& labels, int num_classes);

// Indices of the k highest scores (NaN ranks below every number; ties keep the lower index first),
// returned in ascending index order. k is capped at the number of columns.
std::vector<std::size_t> top_k(const std::vector<double>& scores, std::size_t k);

}  // namespace opsbench
