// HBOS and ECOD: the per-feature (histogram and empirical-CDF) detectors. See hbos.h and ecod.h.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "opsbench/baselines/ecod.h"
#include "opsbench/baselines/hbos.h"
#include "opsbench/baselines/neighbour_search.h"
#include "opsbench/core/error.h"
#include "opsbench/core/parallel.h"

namespace opsbench {
namespace {

// Rows per work item when scoring: fixed, so results do not depend on the thread count.
constexpr std::size_t kScoreBlock = 1024;

void check_fit_input(const Matrix& x, const char* what) {
  if (x.rows == 0) throw DataError(fmt::format("{} fit: the training table has no rows", what));
  if (x.cols == 0) throw DataError(fmt::format("{} fit: the training table has no feature columns", what));
  require_finite_matrix(x, fmt::format("{} fit", what).c_str());
}

void check_score_input(const Matrix& x, std::size_t fitted_cols, bool fitted, const char* what) {
  if (!fitted) throw ModelError(fmt::format("{}: score() called before fit()", what));
  if (x.cols != fitted_cols)
    throw DataError(
        fmt::format("{} score: {} feature columns, but the model was fitted on {}", what, x.cols, fitted_cols));
  require_finite_matrix(x, fmt::format("{} score", what).c_str());
}

}  // namespace

// ---------------------------------------------------------------------------------------------- HBOS

std::vector<OptionDecl> HbosOptions::declarations() {
  return {
      OptionDecl::integer("n_bins", 10, 1, 100000, "equal-width bins per feature"),
      OptionDecl::real("alpha", 0.1, 0.0, 1e6, "added to every density before the logarithm"),
      OptionDecl::real("tol", 0.5, 0.0, 1e6,
                       "values outside the training range within tol * bin width take the edge bin"),
  };
}

HbosOptions HbosOptions::from(const Options& options) {
  HbosOptions o;
  o.n_bins = static_cast<int>(options.get_int("n_bins"));
  o.alpha = options.get_double("alpha");
  o.tol = options.get_double("tol");
  return o;
}

Hbos::Hbos(HbosOptions options) : options_(options) {
  if (options_.n_bins < 1) throw ConfigError("hbos: n_bins must be >= 1");
  if (options_.alpha <= 0 && options_.alpha != 0) throw ConfigError("hbos: alpha must be >= 0");
}

void Hbos::fit(const Table& train, const Context& ctx) { fit_matrix(train.to_matrix(), ctx); }
std::vector<double> Hbos::score(const Table& rows, const Context& ctx) const {
  return score_matrix(rows.to_matrix(), ctx);
}

void Hbos::fit_matrix(const Matrix& x, const Context& /*ctx*/) {
  check_fit_input(x, "hbos");
  const auto bins = static_cast<std::size_t>(options_.n_bins);
  num_features_ = x.cols;
  edges_.assign(x.cols * (bins + 1), 0.0);
  density_.assign(x.cols * bins, 0.0);
  std::vector<double> column(x.rows);
  for (std::size_t j = 0; j < x.cols; ++j) {
    for (std::size_t r = 0; r < x.rows; ++r) column[r] = x(r, j);
    double low = *std::min_element(column.begin(), column.end());
    double high = *std::max_element(column.begin(), column.end());
    if (low == high) {  // numpy.histogram widens an empty range to [v - 0.5, v + 0.5]
      low -= 0.5;
      high += 0.5;
    }
    double* edges = edges_.data() + j * (bins + 1);
    // numpy.linspace: start + i * step, the last edge exactly `high`.
    const double step = (high - low) / static_cast<double>(bins);
    for (std::size_t b = 0; b <= bins; ++b) edges[b] = low + static_cast<double>(b) * step;
    edges[bins] = high;
    std::vector<std::size_t> counts(bins, 0);
    for (const double v : column) {
      // Bin b holds [e_b, e_b+1); the last bin is closed on the right.
      auto b = static_cast<std::size_t>(std::upper_bound(edges, edges + bins + 1, v) - edges);
      b = std::clamp<std::size_t>(b, 1, bins) - 1;
      ++counts[b];
    }
    for (std::size_t b = 0; b < bins; ++b)
      density_[j * bins + b] =
          static_cast<double>(counts[b]) / (static_cast<double>(x.rows) * (edges[b + 1] - edges[b]));
  }
}

std::vector<double> Hbos::score_matrix(const Matrix& x, const Context& ctx) const {
  check_score_input(x, num_features_, !edges_.empty(), "hbos");
  const auto bins = static_cast<std::size_t>(options_.n_bins);
  std::vector<double> smallest(num_features_);
  for (std::size_t j = 0; j < num_features_; ++j)
    smallest[j] = *std::min_element(density_.begin() + static_cast<std::ptrdiff_t>(j * bins),
                                    density_.begin() + static_cast<std::ptrdiff_t>((j + 1) * bins));
  std::vector<double> out(x.rows, 0.0);
  const std::size_t blocks = (x.rows + kScoreBlock - 1) / kScoreBlock;
  detail::parallel_blocks(blocks, ctx.threads, [&](std::size_t blk) {
    for (std::size_t r = blk * kScoreBlock; r < std::min(x.rows, (blk + 1) * kScoreBlock); ++r) {
      double sum = 0;
      for (std::size_t j = 0; j < num_features_; ++j) {
        const double* edges = edges_.data() + j * (bins + 1);
        const double* density = density_.data() + j * bins;
        const double v = x(r, j);
        // numpy.digitize(v, edges, right=False): 0 below the first edge, bins + 1 at or above the last.
        const auto pos = static_cast<std::size_t>(std::upper_bound(edges, edges + bins + 1, v) - edges);
        double h;
        if (pos == 0) {
          h = edges[0] - v <= (edges[1] - edges[0]) * options_.tol ? density[0] : smallest[j];
        } else if (pos == bins + 1) {
          h = v - edges[bins] <= (edges[1] - edges[0]) * options_.tol ? density[bins - 1] : smallest[j];
        } else {
          h = density[pos - 1];
        }
        sum -= std::log2(h + options_.alpha);
      }
      out[r] = sum;
    }
  });
  return out;
}

std::size_t Hbos::model_size_bytes() const { return (edges_.size() + density_.size()) * sizeof(double); }

// ---------------------------------------------------------------------------------------------- ECOD

void Ecod::fit(const Table& train, const Context& ctx) { fit_matrix(train.to_matrix(), ctx); }
std::vector<double> Ecod::score(const Table& rows, const Context& ctx) const {
  return score_matrix(rows.to_matrix(), ctx);
}

void Ecod::fit_matrix(const Matrix& x, const Context& /*ctx*/) {
  check_fit_input(x, "ecod");
  n_ = x.rows;
  num_features_ = x.cols;
  sorted_.resize(x.rows * x.cols);
  skew_sign_.assign(x.cols, 0);
  for (std::size_t j = 0; j < x.cols; ++j) {
    double* column = sorted_.data() + j * n_;
    double mean = 0;
    for (std::size_t r = 0; r < n_; ++r) {
      column[r] = x(r, j);
      mean += column[r];
    }
    mean /= static_cast<double>(n_);
    double m2 = 0, m3 = 0;
    for (std::size_t r = 0; r < n_; ++r) {
      const double dev = column[r] - mean;
      m2 += dev * dev;
      m3 += dev * dev * dev;
    }
    m2 /= static_cast<double>(n_);
    m3 /= static_cast<double>(n_);
    // scipy.stats.skew: 0 when the variance is within rounding of zero.
    const double resolution = 1e-15 * mean;
    const double skew = m2 <= resolution * resolution ? 0.0 : m3 / std::pow(m2, 1.5);
    skew_sign_[j] = (skew > 0) - (skew < 0);
    std::sort(column, column + n_);
  }
}

std::vector<double> Ecod::score_matrix(const Matrix& x, const Context& ctx) const {
  check_score_input(x, num_features_, n_ > 0, "ecod");
  std::vector<double> out(x.rows, 0.0);
  const double denominator = std::log(static_cast<double>(n_) + 1.0);
  const std::size_t blocks = (x.rows + kScoreBlock - 1) / kScoreBlock;
  detail::parallel_blocks(blocks, ctx.threads, [&](std::size_t blk) {
    for (std::size_t r = blk * kScoreBlock; r < std::min(x.rows, (blk + 1) * kScoreBlock); ++r) {
      double sum = 0;
      for (std::size_t j = 0; j < num_features_; ++j) {
        const double* column = sorted_.data() + j * n_;
        const double v = x(r, j);
        const auto at_most = static_cast<double>(std::upper_bound(column, column + n_, v) - column);
        const auto at_least = static_cast<double>(column + n_ - std::lower_bound(column, column + n_, v));
        const double u_left = denominator - std::log(at_most + 1.0);
        const double u_right = denominator - std::log(at_least + 1.0);
        const double u_skew = skew_sign_[j] < 0 ? u_left : skew_sign_[j] > 0 ? u_right : u_left + u_right;
        sum += std::max(u_skew, 0.5 * (u_left + u_right));
      }
      out[r] = sum;
    }
  });
  return out;
}

std::size_t Ecod::model_size_bytes() const { return sorted_.size() * sizeof(double) + skew_sign_.size() * sizeof(int); }

}  // namespace opsbench
