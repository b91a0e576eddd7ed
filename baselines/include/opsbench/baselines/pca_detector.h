// PCA reconstruction-error detector.
//
// Fit: optionally standardise every column with the training mean and population standard deviation
// (a constant column keeps scale 1, so it is centred only); take the eigen-decomposition of the
// sample covariance of the (standardised) training rows (Eigen's SelfAdjointEigenSolver on the
// d x d matrix: cost O(n d^2 + d^3), fine for d up to a few thousand); keep the k components of
// largest variance, where k = n_components when that is > 0, else the smallest k whose cumulative
// explained-variance ratio exceeds `variance` (scikit-learn 1.2.1's rule for a float n_components;
// variance = 1 keeps all d components).
//
// Score: the squared reconstruction error of the standardised row z,
//     score(z) = || z - V V^T z ||^2   (summed over features, not averaged),
// which equals the sum of squares of z's projections on the discarded components. Higher = more
// anomalous; 0 for a row in the span of the kept components (through the training mean).
//
// Determinism: no randomness. Rows are scored in blocks whose boundaries do not depend on
// ctx.threads, so scores are bit-identical for any thread count; the covariance is accumulated in
// fixed row blocks summed in order.
//
// model_size_bytes(): the mean, scale and d x k component matrix, as float64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "opsbench/core/method.h"
#include "opsbench/core/options.h"

namespace opsbench {

struct PcaDetectorOptions {
  int n_components = 0;    // 0 = choose by `variance`
  double variance = 0.95;  // explained-variance ratio in (0, 1]
  bool standardize = true;

  static std::vector<OptionDecl> declarations();
  static PcaDetectorOptions from(const Options& options);
};

class PcaDetector : public Detector {
 public:
  explicit PcaDetector(PcaDetectorOptions options = {});

  void fit(const Table& train, const Context& ctx) override;
  std::vector<double> score(const Table& rows, const Context& ctx) const override;
  std::size_t model_size_bytes() const override;

  void fit_matrix(const Matrix& x, const Context& ctx);
  std::vector<double> score_matrix(const Matrix& x, const Context& ctx) const;

  std::size_t num_components() const { return num_components_; }
  // Explained-variance ratio of every component, largest first (d values).
  const std::vector<double>& explained_variance_ratio() const { return variance_ratio_; }

 private:
  PcaDetectorOptions options_;
  std::size_t num_features_ = 0;
  std::size_t num_components_ = 0;
  std::vector<double> mean_;
  std::vector<double> scale_;
  std::vector<double> components_;  // d x k, column-major: component j is components_[j*d .. j*d+d)
  std::vector<double> variance_ratio_;
};

}  // namespace opsbench
