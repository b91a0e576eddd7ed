// Kneedle (see kneedle.h). Torch-free on purpose: tested and usable without libtorch.
#include "opsbench/models/kneedle.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace opsbench::models {

std::optional<Knee> find_knee(const std::vector<double>& x, const std::vector<double>& y,
                              const KneedleOptions& options) {
  const std::size_t n = x.size();
  if (y.size() != n) throw std::invalid_argument("find_knee: x and y differ in length");
  for (std::size_t i = 1; i < n; ++i) {
    if (!(x[i] > x[i - 1])) throw std::invalid_argument("find_knee: x must be strictly increasing");
  }
  if (options.smoothing_window < 1) throw std::invalid_argument("find_knee: smoothing_window must be >= 1");
  if (n < 3) return std::nullopt;

  std::vector<double> ys(n);
  const std::size_t half = static_cast<std::size_t>(options.smoothing_window / 2);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t lo = i >= half ? i - half : 0, hi = std::min(n - 1, i + half);
    double s = 0;
    for (std::size_t j = lo; j <= hi; ++j) s += y[j];
    ys[i] = s / static_cast<double>(hi - lo + 1);
  }
  const auto [ymin, ymax] = std::minmax_element(ys.begin(), ys.end());
  const double yspan = *ymax - *ymin, xspan = x.back() - x.front();
  if (!(yspan > 0) || !std::isfinite(yspan)) return std::nullopt;  // flat: no knee

  // Reduce to concave increasing. reverse: read the curve from its right end.
  const bool convex = options.curve == KneeCurve::kConvex;
  const bool decreasing = options.direction == KneeDirection::kDecreasing;
  // convex decreasing (1/x): 1 - y increases concavely in x order; concave decreasing (1 - x^2):
  // reversed order; convex increasing (x^2): 1 - y in reversed order.
  const bool reverse = decreasing != convex;
  const bool invert = convex;
  std::vector<double> xn(n), yn(n);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = reverse ? n - 1 - k : k;
    const double xv = (x[i] - x.front()) / xspan;
    const double yv = (ys[i] - *ymin) / yspan;
    xn[k] = reverse ? 1.0 - xv : xv;
    yn[k] = invert ? 1.0 - yv : yv;
  }
  std::vector<double> d(n);
  for (std::size_t k = 0; k < n; ++k) d[k] = yn[k] - xn[k];
  double mean_step = 0;
  for (std::size_t k = 1; k < n; ++k) mean_step += (xn[k] - xn[k - 1]) / static_cast<double>(n - 1);

  std::optional<std::size_t> candidate;
  double threshold = 0;
  bool found = false;
  for (std::size_t k = 1; k < n && !found; ++k) {
    if (k + 1 < n && d[k] > d[k - 1] && d[k] >= d[k + 1]) {
      candidate = k;  // a later local maximum replaces an unconfirmed one
      threshold = d[k] - options.sensitivity * mean_step;
      continue;
    }
    found = candidate && d[k] < threshold;
  }
  if (!found) return std::nullopt;
  const std::size_t index = reverse ? n - 1 - *candidate : *candidate;
  return Knee{index, x[index], y[index]};
}

std::optional<Knee> find_knee(const std::vector<double>& y, const KneedleOptions& options) {
  std::vector<double> x(y.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i + 1);
  return find_knee(x, y, options);
}

}  // namespace opsbench::models
