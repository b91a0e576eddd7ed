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
// Principal-component classifier (Shyu, Chen, Sarinnapakorn, Chang, ICDM Foundations and New
// Directions of Data Mining workshop 2003), option `score`:
//   y_i = z . v_i (projection of the standardised row on component i, eigenvalue lambda_i)
//   major components: the fewest leading ones whose cumulative explained-variance ratio reaches
//     `shyu_major_variance` (0.5: "about 50% of the total variation")
//   minor components: the remaining ones with lambda_i < `shyu_minor_eigenvalue` (0.20; with
//     standardize = true the covariance is the correlation matrix up to n/(n-1), as in the paper)
//   T_major(z) = sum_{major} y_i^2 / lambda_i,  T_minor(z) = sum_{minor} y_i^2 / lambda_i
//   score = shyu_major: T_major;  shyu_minor: T_minor (0 when there is no minor component);
//   score = shyu: max(T_major / c1, T_minor / c2) with c1, c2 the `shyu_quantile` quantiles
//     (numpy's linear interpolation) of T_major and T_minor over the training rows. The paper flags
//     a row when T_major > c1 OR T_minor > c2; this score is > 1 exactly then, and ranks rows by
//     how far past the nearer threshold they are. A zero quantile leaves its sum unscaled; without
//     minor components only the major part counts.
// Differences from the paper, declared: no trimming of extreme training rows before the fit (the
// training rows are used as given); eigenvalues are floored at 1e-9 of the total variance so that
// directions without training variance do not divide by zero. In these modes n_components and
// variance are not used. Training data whose every column is constant: DataError.
// diagnostic_info(): pca.major_components, pca.minor_components, pca.major_quantile,
// pca.minor_quantile (shyu modes) or pca.n_components.
//
// Determinism: no randomness. Rows are scored in blocks whose boundaries do not depend on
// ctx.threads, so scores are bit-identical for any thread count; the covariance is accumulated in
// fixed row blocks summed in order.
//
// model_size_bytes(): the mean, scale and d x k component matrix (k = major + minor in the shyu
// modes, plus their inverse eigenvalues), as float64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "opsbench/core/method.h"
#include "opsbench/core/options.h"

namespace opsbench {

enum class PcaScore { kReconstruction, kShyu, kShyuMajor, kShyuMinor };

struct PcaDetectorOptions {
  int n_components = 0;    // 0 = choose by `variance`
  double variance = 0.95;  // explained-variance ratio in (0, 1]
  bool standardize = true;
  PcaScore score = PcaScore::kReconstruction;
  double major_variance = 0.5;
  double minor_eigenvalue = 0.20;
  double shyu_quantile = 0.99;

  static std::vector<OptionDecl> declarations();
  static PcaDetectorOptions from(const Options& options);
};

class PcaDetector : public Detector {
 public:
  explicit PcaDetector(PcaDetectorOptions options = {});

  void fit(const Table& train, const Context& ctx) override;
  std::vector<double> score(const Table& rows, const Context& ctx) const override;
  std::size_t model_size_bytes() const override;
  std::map<std::string, std::string> diagnostic_info() const override;

  void fit_matrix(const Matrix& x, const Context& ctx);
  std::vector<double> score_matrix(const Matrix& x, const Context& ctx) const;

  std::size_t num_components() const { return num_components_; }
  std::size_t num_major() const { return num_major_; }  // shyu modes
  std::size_t num_minor() const { return num_minor_; }
  double major_quantile() const { return major_quantile_; }
  double minor_quantile() const { return minor_quantile_; }
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
  // shyu modes: components_ holds the major then the minor components.
  std::vector<double> inverse_eigenvalues_;
  std::size_t num_major_ = 0;
  std::size_t num_minor_ = 0;
  double major_quantile_ = 0;
  double minor_quantile_ = 0;

  // (T_major, T_minor) of every row, interleaved.
  std::vector<double> shyu_sums(const Matrix& x, const Context& ctx) const;
};

}  // namespace opsbench
