// Small statistics helpers shared by metrics, threshold policies and reports.
//
// percentile_linear() is NumPy's default (method "linear"): for q in [0, 100] over n sorted values, the
// position is (n - 1) * q / 100 and values between neighbours are interpolated linearly. It is
// the rule scikit-learn's IsolationForest uses for its offset_, so thresholds match it. (measure.h's percentile() is a different rule: nearest rank, q in [0, 1],
// for latency summaries.)
// student_t_quantile() is the two-sided Student-t critical value, computed (not tabulated) by
// bisection on the upper tail 0.5 * I_{df/(df+t^2)}(df/2, 1/2), the regularised incomplete beta
// evaluated by its continued fraction. Tested to 1e-12 relative against the closed forms for df 1
// and 2 and against 40-digit mpmath solutions for df up to 1000, 1e-10 at df 10^6 (SciPy 1.10's
// t.ppf is only good to ~1e-9 on the same values).
#pragma once

#include <vector>

namespace opsbench {

// q in [0, 100]; values non-empty and free of NaN, otherwise DataError. Takes a copy to sort
// (nth_element, O(n)).
double percentile_linear(std::vector<double> values, double q);

// t with P(|T| <= t) = level for Student's T with df > 0 degrees of freedom; level in (0, 1).
double student_t_quantile(double level, double df);

}  // namespace opsbench
