// Histogram-based outlier score (Goldstein and Dengel, KI 2012), as PyOD 1.0's HBOS with static bins.
//
// Fit: per feature, n_bins equal-width bins over [min, max] of the training values (a constant
// feature gets [v - 0.5, v + 0.5], numpy.histogram's rule); density h = count / (n * bin width);
// bin b holds [e_b, e_b+1), the last bin also its right edge.
// Score of a row: sum over features of -log2(h(x_j) + alpha), where a value outside the training
// range takes the density of the nearest edge bin when it lies within tol * bin width of the edge,
// else the smallest density of that feature. Higher = more anomalous. Features are independent, so
// HBOS is fast and insensitive to scale, but blind to anomalies that only show in combinations.
// Bad input: NaN/Inf or an empty training table -> DataError. No randomness; thread-independent.
// model_size_bytes(): the bin edges and densities.
#pragma once

#include <cstddef>
#include <vector>

#include "opsbench/core/method.h"
#include "opsbench/core/options.h"

namespace opsbench {

struct HbosOptions {
  int n_bins = 10;
  double alpha = 0.1;
  double tol = 0.5;

  static std::vector<OptionDecl> declarations();
  static HbosOptions from(const Options& options);
};

class Hbos : public Detector {
 public:
  explicit Hbos(HbosOptions options = {});

  void fit(const Table& train, const Context& ctx) override;
  std::vector<double> score(const Table& rows, const Context& ctx) const override;
  std::size_t model_size_bytes() const override;

  void fit_matrix(const Matrix& x, const Context& ctx);
  std::vector<double> score_matrix(const Matrix& x, const Context& ctx) const;

 private:
  HbosOptions options_;
  std::size_t num_features_ = 0;
  std::vector<double> edges_;    // d x (n_bins + 1)
  std::vector<double> density_;  // d x n_bins
};

}  // namespace opsbench
