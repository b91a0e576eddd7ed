// Small statistics helpers shared by metrics, threshold policies and reports.
//
// percentile_linear() is NumPy's default (method "linear"): for q in [0, 100] over n sorted values, the
// position is (n - 1) * q / 100 and values between neighbours are interpolated linearly. It is
// the rule scikit-learn's IsolationForest uses for its offset_, so thresholds match it. (measure.h's percentile() is a
// different rule: nearest rank, q in [0, 1], for latency summaries.) student_t_quantile() is the two-sided Student-t
// critical value, computed (not tabulated) by bisection on the upper tail 0.5 * I_{df/(df+t^2)}(df/2, 1/2), the
// regularised incomplete beta evaluated by its continued fraction. Tested to 1e-12 relative against the closed forms
// for df 1 and 2 and against 40-digit mpmath solutions for df up to 1000, 1e-10 at df 10^6 (SciPy 1.10's t.ppf is only
// good to ~1e-9 on the same values).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "opsbench/core/metrics.h"

namespace opsbench {

// q in [0, 100]; values non-empty and free of NaN, otherwise DataError. Takes a copy to sort
// (nth_element, O(n)).
double percentile_linear(std::vector<double> values, double q);

// t with P(|T| <= t) = level for Student's T with df > 0 degrees of freedom; level in (0, 1).
double student_t_quantile(double level, double df);

// How many bootstrap resamples gave a value and how many were skipped as undefined (metrics.h's
// Interval has no room for the counts; reports that show a bootstrap interval should show them).
struct BootstrapCounts {
  int used = 0;
  int skipped = 0;
};
// metrics.h's bootstrap_interval, also filling `counts` when it is not null. The resamples are drawn
// with portable_random.h: n row indices uniform in [0, n) per resample, from one std::mt19937_64
// seeded with `seed`, so the interval is the same on every platform.
Interval bootstrap_interval(const std::vector<int>& y_true, const std::vector<double>& scores,
                            const std::function<double(const std::vector<int>&, const std::vector<double>&)>& metric,
                            int resamples, double level, std::uint64_t seed, BootstrapCounts* counts);

}  // namespace opsbench
