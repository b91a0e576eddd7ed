// tsfresh-style features and chi-square selection against reference values computed once with
// tests/reference/make_ts_feature_refs.py (Debian numpy 1.24.2, scipy 1.10.1, scikit-learn 1.2.1;
// tsfresh 0.20's definitions written out with numpy, since tsfresh is not packaged).
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "opsbench/core/error.h"
#include "opsbench/datasets/ts_features.h"

using namespace opsbench;

TEST_CASE("every declared feature matches the tsfresh definition", "[datasets][ts_features]") {
  const std::vector<double> x = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 0.3, 12, 150};
  const std::map<std::string, double> ref = {
      {"mean", 13.294444444444444}, {"median", 5.0}, {"std", 33.3080983182806}, {"variance", 1109.4294135802468},
      {"min", 0.3}, {"max", 150.0}, {"quantile_0.1", 1.0}, {"quantile_0.25", 3.0}, {"quantile_0.75", 8.75},
      {"quantile_0.9", 9.900000000000002}, {"skewness", 4.177813223837232}, {"kurtosis", 17.612081894642568},
      {"abs_energy", 23151.09}, {"sum_of_changes", 198.4}, {"mean_abs_change", 11.670588235294119},
      {"mean_change", 8.647058823529411}, {"count_above_mean", 1.0}, {"count_below_mean", 17.0},
      {"longest_strike_above_mean", 1.0}, {"longest_strike_below_mean", 17.0},
      {"autocorrelation_lag1", 0.04619476837230905}, {"autocorrelation_lag2", -0.04551141751684001},
      {"autocorrelation_lag5", 0.013100971847199785}, {"autocorrelation_lag10", -0.070235087478095},
      {"linear_trend_slope", 2.834778121775026}, {"linear_trend_intercept", -10.801169590643276},
      {"number_peaks_1", 5.0}, {"number_peaks_3", 1.0}, {"variation_coefficient", 2.5054148338029703},
      {"first_location_of_minimum", 0.8333333333333334}, {"last_location_of_minimum", 0.8888888888888888},
      {"first_location_of_maximum", 0.9444444444444444}, {"last_location_of_maximum", 1.0},
      {"benford_correlation", 0.4988597432449125}};
  const TsFeatureSet set = TsFeatureSet::paper_default();
  REQUIRE(set.size() == ref.size());
  std::vector<double> out(set.size());
  set.compute(x.data(), x.size(), out.data());
  for (std::size_t i = 0; i < set.size(); ++i) {
    INFO(set.names()[i]);
    REQUIRE(ref.count(set.names()[i]) == 1);
    CHECK(out[i] == Approx(ref.at(set.names()[i])).epsilon(1e-10).margin(1e-12));
  }
}

TEST_CASE("features of a constant series are finite (declared zeros where tsfresh gives NaN)",
          "[datasets][ts_features]") {
  const std::vector<double> x(10, 4.0);
  const TsFeatureSet set = TsFeatureSet::paper_default();
  std::vector<double> out(set.size());
  set.compute(x.data(), x.size(), out.data());
  for (std::size_t i = 0; i < set.size(); ++i) {
    INFO(set.names()[i]);
    CHECK(std::isfinite(out[i]));
  }
  CHECK(out[0] == 4.0);  // mean
}

TEST_CASE("unknown feature names list the valid ones", "[datasets][ts_features]") {
  CHECK_THROWS_WITH(TsFeatureSet({"meen"}, {}, {}, {}), Catch::Contains("valid: mean"));
}

TEST_CASE("chi2 matches scikit-learn 1.2.1 and top_k ranks NaN last", "[datasets][ts_features]") {
  Matrix x(5, 4);
  const double v[5][4] = {{0.0, 1.0, 0.5, 0.0}, {0.2, 0.0, 0.5, 0.0}, {1.0, 0.3, 0.5, 0.0}, {0.7, 0.9, 0.1, 0.0},
                          {0.1, 0.6, 1.0, 0.0}};
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 4; ++c) x(r, c) = v[r][c];
  const auto s = chi2_scores(x, {0, 1, 2, 1, 0}, 3);
  CHECK(s[0] == Approx(1.525));
  CHECK(s[1] == Approx(0.3696428571428572));
  CHECK(s[2] == Approx(0.39038461538461533));
  CHECK(std::isnan(s[3]));
  CHECK(top_k(s, 2) == std::vector<std::size_t>{0, 2});
  CHECK(top_k(s, 10) == std::vector<std::size_t>{0, 1, 2, 3});
  x(0, 0) = -1;
  CHECK_THROWS_AS(chi2_scores(x, {0, 1, 2, 1, 0}, 3), DataError);
}
