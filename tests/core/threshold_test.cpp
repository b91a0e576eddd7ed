// Threshold policies. Reference values from tests/reference/make_metric_refs.py (NumPy 1.24.2,
// scikit-learn 1.2.1): the script also checks that IsolationForest's -offset_ equals
// np.percentile(-score_samples, 100 (1 - contamination)) and that its predicted outliers are exactly
// the rows with score > t, the rule implemented here.
#include "opsbench/core/threshold.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/core/metrics.h"

namespace opsbench {
namespace {
const std::vector<double> kTrain = {0.3, 0.1, 0.7, 0.2, 0.9, 0.4, 0.6, 0.5, 0.8, 1.3, 0.15};
}  // namespace

TEST_CASE("threshold policies parse, validate and describe themselves", "[core][threshold]") {
  const ThresholdPolicy c = ThresholdPolicy::parse("contamination", 0.05);
  CHECK(c.kind == ThresholdKind::kContamination);
  CHECK(c.canonical() == "contamination=0.05");
  CHECK(c.describe() ==
        "contamination=0.05: threshold at the 95th percentile of training scores "
        "(scikit-learn IsolationForest offset_)");
  CHECK(ThresholdPolicy::parse("train_percentile", 99).describe() ==
        "train_percentile=99: threshold at the 99th percentile of training scores");
  CHECK(ThresholdPolicy::parse("train_percentile", 92).describe().find("92nd") != std::string::npos);
  const ThresholdPolicy b = ThresholdPolicy::parse("best_f1_validation", 0);
  CHECK(b.canonical() == "best_f1_validation");
  CHECK(b.needs_validation());
  CHECK(!c.needs_validation());
  CHECK_THROWS_AS(ThresholdPolicy::parse("contamination", 0.0), ConfigError);
  CHECK_THROWS_AS(ThresholdPolicy::parse("contamination", 0.6), ConfigError);
  CHECK_THROWS_AS(ThresholdPolicy::parse("train_percentile", 100), ConfigError);
  try {
    ThresholdPolicy::parse("contamnation", 0.1);
    FAIL("no ConfigError");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("valid: contamination, train_percentile") != std::string::npos);
  }
}

TEST_CASE("contamination threshold is the (1-c) training percentile", "[core][threshold]") {
  // np.percentile(train, 95) = 1.1, np.percentile(train, 90) = 0.9 (NumPy 1.24.2)
  CHECK(compute_threshold(ThresholdPolicy::parse("contamination", 0.05), kTrain) == Approx(1.1).epsilon(1e-12));
  CHECK(compute_threshold(ThresholdPolicy::parse("contamination", 0.1), kTrain) == Approx(0.9).epsilon(1e-12));
  CHECK(compute_threshold(ThresholdPolicy::parse("train_percentile", 37.5), kTrain) == Approx(0.375).epsilon(1e-12));
  // With 0.1 contamination, one training row of 11 ends strictly above the threshold.
  const double t = compute_threshold(ThresholdPolicy::parse("contamination", 0.1), kTrain);
  const std::vector<int> pred = apply_threshold(kTrain, t);
  int above = 0;
  for (int p : pred) above += p;
  CHECK(above == 1);
  CHECK(compute_threshold(ThresholdPolicy::parse("fixed", 0.42), {}) == 0.42);
  CHECK_THROWS_AS(compute_threshold(ThresholdPolicy::parse("contamination", 0.1), {}), DataError);
  CHECK_THROWS_AS(compute_threshold(ThresholdPolicy::parse("contamination", 0.1), {0.1, std::nan("")}), DataError);
}

TEST_CASE("apply_threshold predicts score > t", "[core][threshold]") {
  CHECK(apply_threshold({0.1, 0.5, 0.9, 0.5}, 0.5) == std::vector<int>{0, 0, 1, 0});
  CHECK(apply_threshold({}, 0.5).empty());
}

TEST_CASE("best_f1_validation maximises validation F1", "[core][threshold]") {
  const std::vector<double> vs = {0.9, 0.8, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1};
  const std::vector<int> vl = {1, 1, 0, 1, 0, 1, 0, 0, 1, 0};
  const double t = best_f1_threshold(vs, vl);
  // Brute force with scikit-learn 1.2.1 f1_score: best F1 0.7272727272727272 when every score >= 0.5
  // is predicted anomalous; the threshold sits between 0.5 and 0.4.
  CHECK(t == Approx(0.45).epsilon(1e-12));
  CHECK(f1(vl, apply_threshold(vs, t), Average::kBinary) == Approx(0.7272727272727272).epsilon(1e-12));
  CHECK(compute_threshold(ThresholdPolicy::parse("best_f1_validation", 0), {}, vs, vl) == t);
}

TEST_CASE("best_f1_validation needs both classes and matching sizes", "[core][threshold]") {
  try {
    best_f1_threshold({0.3, 0.2, 0.1}, {0, 0, 0});
    FAIL("no DataError");
  } catch (const DataError& e) {
    CHECK(std::string(e.what()).find("only one class (all 0)") != std::string::npos);
  }
  CHECK_THROWS_AS(best_f1_threshold({0.3, 0.2}, {0, 1, 1}), DataError);
  CHECK_THROWS_AS(best_f1_threshold({}, {}), DataError);
  // Lowest cut wins: every row predicted anomalous gives the best F1 here.
  const double t = best_f1_threshold({0.3, 0.2, 0.1}, {1, 0, 1});
  CHECK(t < 0.1);
  CHECK(apply_threshold({0.3, 0.2, 0.1}, t) == std::vector<int>{1, 1, 1});
}

}  // namespace opsbench
