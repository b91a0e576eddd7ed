// ECOD: empirical-cumulative-distribution-based outlier detection (Li, Zhao, Hu, Botta, Ionescu,
// Chen, IEEE TKDE 2022), as PyOD 1.0's ECOD, made inductive.
//
// Fit: keeps each feature's sorted training values and the sign of its sample skewness (biased,
// scipy.stats.skew's default).
// Score of a row x: per feature j, with the row counted as one more sample of the training set,
//   F_l = (#{train <= x_j} + 1) / (n + 1),   F_r = (#{train >= x_j} + 1) / (n + 1),
//   U_l = -ln F_l,  U_r = -ln F_r,
//   U_s = U_l for negative skew, U_r for positive skew, U_l + U_r for zero skew (PyOD's formula),
//   O_j = max(U_s, (U_l + U_r) / 2),
// score = sum_j O_j. Higher = more anomalous (tail probabilities in the direction of the skew).
// Difference from PyOD: PyOD scores new rows by recomputing the ECDFs on train + the scored rows
// together (transductive); here the scored rows never change each other's scores, and a training
// row scored again gets the value PyOD's fit gives it up to the +1 (its own count).
// Bad input: NaN/Inf or an empty training table -> DataError. No randomness; thread-independent.
// model_size_bytes(): the sorted training values and the skew signs.
#pragma once

#include <cstddef>
#include <vector>

#include "opsbench/core/method.h"
#include "opsbench/core/options.h"

namespace opsbench {

class Ecod : public Detector {
 public:
  static std::vector<OptionDecl> declarations() { return {}; }

  void fit(const Table& train, const Context& ctx) override;
  std::vector<double> score(const Table& rows, const Context& ctx) const override;
  std::size_t model_size_bytes() const override;

  void fit_matrix(const Matrix& x, const Context& ctx);
  std::vector<double> score_matrix(const Matrix& x, const Context& ctx) const;

 private:
  std::size_t n_ = 0;
  std::size_t num_features_ = 0;
  std::vector<double> sorted_;  // d x n, each feature's training values ascending
  std::vector<int> skew_sign_;  // d values in {-1, 0, 1}
};

}  // namespace opsbench
