// Metrics against scikit-learn 1.2.1 (NumPy 1.24.2, SciPy 1.10.1). Every reference value below was
// printed by tests/reference/make_metric_refs.py on the same literal inputs; rerun it to regenerate.
#include "opsbench/core/metrics.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/core/metric_list.h"
#include "opsbench/core/registry.h"
#include "opsbench/core/statistics.h"

namespace opsbench {
namespace {

using Catch::Matchers::Contains;

constexpr double kTol = 1e-12;

// Binary rows with ties across classes (groups at 0.8, 0.5, 0.3 mix both labels).
const std::vector<int> kY = {0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1};
const std::vector<double> kS = {0.1, 0.5, 0.5, 0.8, 0.8, 0.3, 0.3, 0.9, 0.2, 0.05, 0.3, 0.5};
const std::vector<int> kP = {0, 1, 1, 1, 1, 0, 0, 1, 0, 0, 1, 1};

// Multiclass: class 3 never predicted, class 2 never true... except once.
const std::vector<int> kYt = {0, 1, 2, 0, 1, 3, 3, 0, 1, 3, 0, 0};
const std::vector<int> kYp = {0, 2, 2, 1, 1, 0, 1, 0, 2, 2, 0, 1};

std::string data_error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "<no DataError>";
}

}  // namespace

TEST_CASE("roc_auc and average_precision treat ties as scikit-learn", "[core][metrics]") {
  CHECK(roc_auc(kY, kS) == Approx(0.7083333333333334).epsilon(kTol));            // scikit-learn 1.2.1
  CHECK(average_precision(kY, kS) == Approx(0.6925925925925925).epsilon(kTol));  // scikit-learn 1.2.1
  const std::vector<double> tied(kY.size(), 0.0);
  CHECK(roc_auc(kY, tied) == Approx(0.5).epsilon(kTol));            // scikit-learn 1.2.1
  CHECK(average_precision(kY, tied) == Approx(0.5).epsilon(kTol));  // scikit-learn 1.2.1
  // Row order must not matter (tie groups, not positions).
  std::vector<int> y_rev(kY.rbegin(), kY.rend());
  std::vector<double> s_rev(kS.rbegin(), kS.rend());
  CHECK(roc_auc(y_rev, s_rev) == Approx(roc_auc(kY, kS)).epsilon(kTol));
  CHECK(average_precision(y_rev, s_rev) == Approx(average_precision(kY, kS)).epsilon(kTol));
  // Perfect and inverted rankings.
  CHECK(roc_auc({0, 0, 1, 1}, {0.1, 0.2, 0.3, 0.4}) == 1.0);
  CHECK(roc_auc({0, 0, 1, 1}, {0.4, 0.3, 0.2, 0.1}) == 0.0);
  CHECK(average_precision({0, 0, 1, 1}, {0.1, 0.2, 0.3, 0.4}) == 1.0);
}

TEST_CASE("hard-label metrics match scikit-learn", "[core][metrics]") {
  CHECK(accuracy(kY, kP) == Approx(0.5833333333333334).epsilon(kTol));                     // sklearn 1.2.1
  CHECK(precision(kY, kP, Average::kBinary) == Approx(0.5714285714285714).epsilon(kTol));  // sklearn 1.2.1
  CHECK(recall(kY, kP, Average::kBinary) == Approx(0.6666666666666666).epsilon(kTol));     // sklearn 1.2.1
  CHECK(f1(kY, kP, Average::kBinary) == Approx(0.6153846153846153).epsilon(kTol));         // sklearn 1.2.1
  CHECK(f1(kY, kP, Average::kMacro) == Approx(0.5804195804195804).epsilon(kTol));          // sklearn 1.2.1
  CHECK(f1(kY, kP, Average::kWeighted) == Approx(0.5804195804195803).epsilon(kTol));       // sklearn 1.2.1
  CHECK(precision(kY, kP, Average::kMacro) == Approx(0.5857142857142856).epsilon(kTol));   // sklearn 1.2.1
  CHECK(recall(kY, kP, Average::kMacro) == Approx(0.5833333333333333).epsilon(kTol));      // sklearn 1.2.1
  const std::vector<double> hard(kP.begin(), kP.end());
  CHECK(roc_auc(kY, hard) == Approx(0.5833333333333333).epsilon(kTol));            // sklearn 1.2.1
  CHECK(average_precision(kY, hard) == Approx(0.5476190476190477).epsilon(kTol));  // sklearn 1.2.1
}

TEST_CASE("precision, recall and F1 use zero_division=0", "[core][metrics]") {
  const std::vector<int> none(kY.size(), 0);
  CHECK(precision(kY, none, Average::kBinary) == 0.0);  // scikit-learn 1.2.1, zero_division=0
  CHECK(recall(kY, none, Average::kBinary) == 0.0);
  CHECK(f1(kY, none, Average::kBinary) == 0.0);
  // No positive in y_true either: recall's denominator is 0 too.
  CHECK(recall(none, none, Average::kBinary) == 0.0);
  CHECK(f1(none, none, Average::kBinary) == 0.0);
}

TEST_CASE("multiclass macro and weighted averages", "[core][metrics]") {
  CHECK(precision(kYt, kYp, Average::kMacro, 4) == Approx(0.3125).epsilon(kTol));                 // sklearn 1.2.1
  CHECK(recall(kYt, kYp, Average::kMacro, 4) == Approx(0.48333333333333334).epsilon(kTol));       // sklearn 1.2.1
  CHECK(f1(kYt, kYp, Average::kMacro, 4) == Approx(0.3380952380952381).epsilon(kTol));            // sklearn 1.2.1
  CHECK(precision(kYt, kYp, Average::kWeighted, 4) == Approx(0.3958333333333333).epsilon(kTol));  // sklearn 1.2.1
  CHECK(recall(kYt, kYp, Average::kWeighted, 4) == Approx(0.4166666666666667).epsilon(kTol));     // sklearn 1.2.1
  CHECK(f1(kYt, kYp, Average::kWeighted, 4) == Approx(0.3825396825396825).epsilon(kTol));         // sklearn 1.2.1
  CHECK(accuracy(kYt, kYp) == Approx(0.4166666666666667).epsilon(kTol));                          // sklearn 1.2.1
  // Class 2 absent from both y_true and y_pred: macro averages over the present classes only.
  CHECK(f1({0, 1, 3, 3, 1, 0}, {0, 1, 3, 0, 0, 0}, Average::kMacro, 4) ==
        Approx(0.6666666666666666).epsilon(kTol));  // scikit-learn 1.2.1
  CHECK_THROWS_AS(f1(kYt, kYp, Average::kBinary, 4), ConfigError);
}

TEST_CASE("confusion matrix rows are truth, columns predictions", "[core][metrics]") {
  const ConfusionMatrix cm = confusion_matrix(kYt, kYp, 4);
  // scikit-learn 1.2.1 confusion_matrix(labels=[0, 1, 2, 3])
  const std::vector<std::int64_t> expected = {3, 2, 0, 0, 0, 1, 2, 0, 0, 0, 1, 0, 1, 1, 1, 0};
  CHECK(cm.num_classes == 4);
  CHECK(cm.counts == expected);
  CHECK(cm.at(3, 2) == 1);
  CHECK_THROWS_AS(confusion_matrix({0, 4}, {0, 1}, 4), DataError);
  CHECK_THROWS_AS(confusion_matrix({0, -1}, {0, 1}, 4), DataError);
}

TEST_CASE("one-vs-rest ROC-AUC, macro and prevalence-weighted", "[core][metrics]") {
  const std::vector<int> y = {0, 1, 2, 2, 1, 0, 0, 2, 1, 0};
  const std::vector<double> rows = {0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.1, 0.3, 0.6, 0.3, 0.3, 0.4, 0.3,  0.4,  0.3,
                                    0.5, 0.2, 0.3, 0.3, 0.4, 0.3, 0.2, 0.2, 0.6, 0.4, 0.4, 0.2, 0.25, 0.25, 0.5};
  Matrix proba(10, 3);
  proba.data = rows;
  CHECK(roc_auc_ovr(y, proba, Average::kMacro) == Approx(0.8988095238095237).epsilon(kTol));     // sklearn 1.2.1
  CHECK(roc_auc_ovr(y, proba, Average::kWeighted) == Approx(0.8880952380952379).epsilon(kTol));  // sklearn 1.2.1
  // A class with no row in y_true makes its AUC undefined.
  std::vector<int> no_two = {0, 1, 1, 1, 1, 0, 0, 0, 1, 0};
  CHECK_THAT(data_error_message([&] { roc_auc_ovr(no_two, proba, Average::kMacro); }),
             Contains("class 2 does not occur"));
  Matrix not_proba = proba;
  not_proba(0, 0) = 0.9;
  CHECK_THAT(data_error_message([&] { roc_auc_ovr(y, not_proba, Average::kMacro); }), Contains("sum to"));
}

TEST_CASE("undefined metrics throw DataError that says why", "[core][metrics]") {
  CHECK_THAT(data_error_message([] {
               roc_auc({0, 0, 0}, {0.1, 0.2, 0.3});
             }),
             Contains("ROC-AUC is undefined: y_true has only one class (all 0)"));
  CHECK_THAT(data_error_message([] { roc_auc({1, 1}, {0.1, 0.2}); }), Contains("only one class (all 1)"));
  CHECK_THAT(data_error_message([] { average_precision({0, 0}, {0.1, 0.2}); }), Contains("no positive"));
  CHECK_THAT(data_error_message([] { roc_auc({0, 1}, {0.1}); }), Contains("y_true has 2 values but scores has 1"));
  CHECK_THAT(data_error_message([] { accuracy({}, {}); }), Contains("empty"));
  CHECK_THAT(data_error_message([] { roc_auc({0, 2}, {0.1, 0.2}); }), Contains("must be 0 or 1"));
  CHECK_THAT(data_error_message([] { roc_auc({0, 1}, {0.1, std::nan("")}); }), Contains("not finite"));
  CHECK_THAT(data_error_message([] { precision_at_k({0, 1}, {0.1, 0.2}, 3); }), Contains("k=3"));
  CHECK_THAT(data_error_message([] { f1({0, 1}, {0, 1, 1}, Average::kBinary); }), Contains("y_pred has 3"));
}

TEST_CASE("precision_at_k is the tie-free expected value", "[core][metrics]") {
  const std::vector<int> y = {1, 0, 1, 0, 1, 0, 0, 1};
  const std::vector<double> s = {0.9, 0.7, 0.7, 0.7, 0.4, 0.4, 0.1, 0.7};
  // Brute force over every order of the tied rows (make_metric_refs.py).
  const double expected[] = {1.0, 0.75, 0.666666666666667, 0.625, 0.6000000000000005, 0.5833333333333335};
  for (std::size_t k = 1; k <= 6; ++k) {
    INFO("k = " << k);
    CHECK(precision_at_k(y, s, k) == Approx(expected[k - 1]).epsilon(1e-12));
  }
  CHECK(precision_at_k(y, s, 8) == Approx(0.5));
}

TEST_CASE("bootstrap interval is deterministic and brackets the estimate", "[core][metrics]") {
  std::mt19937_64 engine(7);
  std::normal_distribution<double> noise(0.0, 1.0);  // only builds the input; values are not compared
  std::vector<int> y(400);
  std::vector<double> s(400);
  for (std::size_t i = 0; i < y.size(); ++i) {
    y[i] = i % 4 == 0 ? 1 : 0;
    s[i] = y[i] + noise(engine);
  }
  const Interval a = bootstrap_interval(y, s, roc_auc, 200, 0.95, 42);
  const Interval b = bootstrap_interval(y, s, roc_auc, 200, 0.95, 42);
  const Interval c = bootstrap_interval(y, s, roc_auc, 200, 0.95, 43);
  CHECK(a.low == b.low);
  CHECK(a.high == b.high);
  CHECK((a.low != c.low || a.high != c.high));
  const double auc = roc_auc(y, s);
  CHECK(a.low < auc);
  CHECK(auc < a.high);
  CHECK(a.high - a.low < 0.2);
  // Tiny input where many resamples have one class: those are skipped, not fatal.
  BootstrapCounts counts;
  const Interval tiny = bootstrap_interval({0, 1, 0}, {0.1, 0.9, 0.2}, roc_auc, 50, 0.9, 1, &counts);
  CHECK(tiny.low == 1.0);
  CHECK(tiny.high == 1.0);
  // P(both classes in 3 draws) = 1 - (1/3)^3 - (2/3)^3 = 2/3: about 33 of 50 used.
  CHECK(counts.used + counts.skipped == 50);
  CHECK(counts.used > 20);
  CHECK(counts.skipped > 5);
  CHECK_THROWS_AS(bootstrap_interval({0, 0}, {0.1, 0.2}, roc_auc, 20, 0.95, 1), DataError);
  CHECK_THROWS_AS(bootstrap_interval(y, s, roc_auc, 20, 1.5, 1), ConfigError);
}

TEST_CASE("Student-t quantile and mean_ci", "[core][metrics]") {
  // Closed forms: df 1 -> tan(pi (p - 1/2)); df 2 -> (2p - 1) / sqrt(2 p (1 - p)), p = 0.975.
  const double pi = std::acos(-1.0);
  CHECK(student_t_quantile(0.95, 1) == Approx(std::tan(pi * 0.475)).epsilon(1e-12));
  CHECK(student_t_quantile(0.95, 2) == Approx(0.95 / std::sqrt(2 * 0.975 * 0.025)).epsilon(1e-12));
  // Solved with mpmath 1.2.1 at 40 digits (make_metric_refs.py); scipy.stats.t.ppf (SciPy 1.10.1)
  // is off by up to ~1e-9 on these, so it is not the reference.
  struct Ref {
    double level, df, t;
  };
  const Ref refs[] = {
      {0.95, 4, 2.7764451051977934898},   {0.95, 9, 2.2621571627982049992},    {0.95, 30, 2.0422724563012378878},
      {0.95, 100, 1.9839715185235518946}, {0.95, 1000, 1.9623390808264081039}, {0.95, 1000000, 1.9599663568141066553},
      {0.99, 3, 5.8409093097333554113},   {0.90, 7, 1.8945786050900075405},    {0.999, 1, 636.61924876871905078}};
  for (const Ref& r : refs) {
    INFO("level " << r.level << " df " << r.df);
    // At df 10^6 the continued fraction runs thousands of terms and keeps ~11 digits.
    CHECK(student_t_quantile(r.level, r.df) == Approx(r.t).epsilon(r.df > 1e5 ? 1e-10 : 1e-12));
  }
  const MeanCi ci = mean_ci({0.81, 0.84, 0.79, 0.86, 0.83});
  CHECK(ci.n == 5);
  CHECK(ci.mean == Approx(0.826).epsilon(kTol));                      // NumPy 1.24.2
  CHECK(ci.half_width == Approx(0.03354791384926658).epsilon(1e-9));  // SciPy 1.10.1
  CHECK(ci.stddev == Approx(0.02701851217221256).epsilon(1e-12));               // NumPy 1.24.2 std(ddof=1)
  const MeanCi one = mean_ci({0.7});
  CHECK(one.mean == 0.7);
  CHECK(one.half_width == 0.0);
  CHECK(one.stddev == 0.0);
  CHECK_THROWS_AS(mean_ci({}), DataError);
  CHECK_THROWS_AS(mean_ci({1.0, 2.0}, 0.0), ConfigError);
}

TEST_CASE("percentile is NumPy's linear interpolation", "[core][metrics]") {
  const std::vector<double> v = {0.3, 0.1, 0.7, 0.2, 0.9, 0.4, 0.6, 0.5, 0.8, 1.3, 0.15};
  // np.percentile (NumPy 1.24.2)
  CHECK(percentile_linear(v, 0) == Approx(0.1).epsilon(kTol));
  CHECK(percentile_linear(v, 10) == Approx(0.15).epsilon(kTol));
  CHECK(percentile_linear(v, 37.5) == Approx(0.375).epsilon(kTol));
  CHECK(percentile_linear(v, 50) == Approx(0.5).epsilon(kTol));
  CHECK(percentile_linear(v, 90) == Approx(0.9).epsilon(kTol));
  CHECK(percentile_linear(v, 95) == Approx(1.1).epsilon(kTol));
  CHECK(percentile_linear(v, 100) == Approx(1.3).epsilon(kTol));
  CHECK_THROWS_AS(percentile_linear({}, 50), DataError);
}

TEST_CASE("register_metrics lists every metric with a description", "[core][metrics]") {
  Registry registry;
  register_metrics(registry);
  const std::vector<std::string> names = {"accuracy",
                                          "precision",
                                          "recall",
                                          "f1",
                                          "f1_macro",
                                          "f1_weighted",
                                          "precision_macro",
                                          "recall_macro",
                                          "roc_auc",
                                          "roc_auc_hard",
                                          "average_precision",
                                          "average_precision_hard",
                                          "precision_at_k",
                                          "roc_auc_ovr_macro",
                                          "roc_auc_ovr_weighted"};
  CHECK(registry.metrics().size() == names.size());
  for (const std::string& name : names) {
    INFO(name);
    const MetricEntry& entry = registry.metric(name);
    CHECK(!entry.description.empty());
    CHECK(entry.higher_is_better);
  }
  MetricInput in;
  in.y_true = kY;
  in.scores = kS;
  in.y_pred = kP;
  CHECK(registry.metric("roc_auc").compute(in) == Approx(0.7083333333333334).epsilon(kTol));       // sklearn 1.2.1
  CHECK(registry.metric("roc_auc_hard").compute(in) == Approx(0.5833333333333333).epsilon(kTol));  // sklearn 1.2.1
  CHECK(registry.metric("average_precision_hard").compute(in) ==
        Approx(0.5476190476190477).epsilon(kTol));                                       // scikit-learn 1.2.1
  CHECK(registry.metric("f1").compute(in) == Approx(0.6153846153846153).epsilon(kTol));  // sklearn 1.2.1
  // k = 6 positives; the top 6 are {0.9, 0.8 x2, 0.5 x3} with 1 + 1 + 2 positives.
  CHECK(registry.metric("precision_at_k").compute(in) == Approx(4.0 / 6.0).epsilon(kTol));
  CHECK_THAT(data_error_message([&] { registry.metric("roc_auc_ovr_macro").compute(in); }),
             Contains("needs class probabilities"));
}

}  // namespace opsbench
