// Percentile and Student-t quantile (see statistics.h for the rules and where they are checked).
#include "opsbench/core/statistics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "opsbench/core/error.h"

namespace opsbench {

double percentile_linear(std::vector<double> values, double q) {
  if (values.empty()) throw DataError("percentile is undefined for no values");
  if (!(q >= 0.0 && q <= 100.0)) throw ConfigError(fmt::format("percentile: q must be in [0, 100], got {}", q));
  for (double v : values) {
    if (std::isnan(v)) throw DataError("percentile: values contain NaN");
  }
  const double position = static_cast<double>(values.size() - 1) * (q / 100.0);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const double fraction = position - static_cast<double>(below);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(below), values.end());
  const double low = values[below];
  if (fraction == 0.0 || below + 1 >= values.size()) return low;
  // The next order statistic is the minimum of the part after `below`.
  const double high = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(below) + 1, values.end());
  // NumPy's _lerp form, exact at both ends.
  const double diff = high - low;
  return fraction >= 0.5 ? high - diff * (1.0 - fraction) : low + diff * fraction;
}

namespace {

// log Gamma(x) - log Gamma(x + b) for x >= 50 and 0 < b <= x, from Stirling's series written so
// that nothing large cancels: (x - 1/2) ln x - (x + b - 1/2) ln(x + b) is regrouped with log1p.
// std::lgamma(x) - std::lgamma(x + b) would lose ~log10(lgamma(x)) digits for large df.
double lgamma_difference(double x, double b) {
  auto correction = [](double z) {
    const double z2 = z * z;
    return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - 1.0 / (1680.0 * z2)) / z2) / z2) / z;
  };
  return -b * std::log(x) - (x + b - 0.5) * std::log1p(b / x) + b + correction(x) - correction(x + b);
}

double log_beta(double a, double b) {
  const double small = std::min(a, b), large = std::max(a, b);
  if (large < 50.0) return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
  return std::lgamma(small) + lgamma_difference(large, small);
}

// Regularised incomplete beta I_x(a, b), with y = 1 - x passed separately so that a value of x
// near 1 keeps its precision. Continued fraction (modified Lentz evaluation); it converges fast for
// x < (a + 1) / (a + b + 2), and above that the symmetry I_x(a, b) = 1 - I_y(b, a) is used.
// `swapped` stops a second swap, which rounding could otherwise trigger at the boundary.
double incomplete_beta(double x, double y, double a, double b, bool swapped = false) {
  if (x <= 0.0) return 0.0;
  if (y <= 0.0) return 1.0;
  if (!swapped && x > (a + 1.0) / (a + b + 2.0)) return 1.0 - incomplete_beta(y, x, b, a, true);
  const double log_front = a * std::log(x) + b * std::log(y) - log_beta(a, b) - std::log(a);
  constexpr double kTiny = 1e-300;
  constexpr double kEps = 1e-16;
  // Continued fraction 1 / (1 + d1 / (1 + d2 / (1 + ...))), d_{2m} and d_{2m+1} as in the
  // standard expansion of I_x(a, b).
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double f = d;
  for (int m = 1; m <= 100000; ++m) {
    const double dm = m;
    const double even = dm * (b - dm) * x / ((a + 2 * dm - 1) * (a + 2 * dm));
    d = 1.0 + even * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + even / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    f *= d * c;
    const double odd = -(a + dm) * (a + b + dm) * x / ((a + 2 * dm) * (a + 2 * dm + 1));
    d = 1.0 + odd * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + odd / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    f *= delta;
    if (std::fabs(delta - 1.0) < kEps) break;
  }
  return std::exp(log_front) * f;
}

// P(T > t) for Student's t with df degrees of freedom, t >= 0.
double student_t_upper_tail(double t, double df) {
  const double t2 = t * t;
  return 0.5 * incomplete_beta(df / (df + t2), t2 / (df + t2), df / 2.0, 0.5);
}

}  // namespace

// Two-sided Student-t quantile t_{(1+level)/2, df}: bisection on the upper tail, which is strictly
// decreasing in t. Checked against scipy.stats.t.ppf in tests (df 1 .. 10^6).
double student_t_quantile(double level, double df) {
  if (!(level > 0.0 && level < 1.0))
    throw ConfigError(fmt::format("Student-t quantile: level must be in (0, 1), got {}", level));
  if (!(df > 0.0) || !std::isfinite(df))
    throw ConfigError(fmt::format("Student-t quantile: df must be > 0, got {}", df));
  const double target = (1.0 - level) / 2.0;
  double lo = 0.0, hi = 1.0;
  while (student_t_upper_tail(hi, df) > target) {
    lo = hi;
    hi *= 2.0;
  }
  for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_upper_tail(mid, df) > target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace opsbench
