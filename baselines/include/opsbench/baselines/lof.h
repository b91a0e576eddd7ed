// Local Outlier Factor (Breunig, Kriegel, Ng, Sander, SIGMOD 2000), behaving like scikit-learn
// 1.2.1's sklearn.neighbors.LocalOutlierFactor with the Euclidean metric.
//
// Fit on n training rows with k = min(n_neighbors, n - 1) (scikit-learn caps it the same way and
// warns; here the effective k is in diagnostic_info()["lof.n_neighbors"]):
//   N_k(p)        the k nearest training rows of p other than p itself (NeighbourIndex order:
//                 distance, then lower row index; duplicates of p at distance 0 count)
//   kdist(o)      distance from training row o to its k-th neighbour
//   reach(p, o)   max(dist(p, o), kdist(o))
//   lrd(p)        1 / (mean_{o in N_k(p)} reach(p, o) + 1e-10)   (scikit-learn's 1e-10 keeps
//                 groups of more than k duplicates finite: their lrd is 1e10, not infinity)
//   LOF(p)        mean_{o in N_k(p)} lrd(o) / lrd(p)
// Score: higher = more anomalous; about 1 inside a cluster, larger for outliers. It is the
// negation of scikit-learn's score_samples() / negative_outlier_factor_.
//
// Modes (option `novelty`):
// - novelty = true (default; scikit-learn novelty=True): score(rows) gives each row its LOF with
//   respect to the training rows; N_k(row) is taken among all training rows (a scored row that is
//   also a training row finds itself at distance 0, as in scikit-learn).
// - novelty = false (scikit-learn's outlier mode, fit_predict): score(rows) is the LOF of each row
//   within `rows` themselves (the rows are their own reference set; the training rows are not
//   used). This is the protocol of code that fits and evaluates detectors on the same rows.
//   training_outlier_factors() holds the LOF of the training rows (negative_outlier_factor_).
//
// Bad input: NaN/Inf -> DataError naming row and column; fewer than 2 rows -> DataError (in outlier
// mode also for the scored rows); fewer rows than n_neighbors -> k capped; constant columns are
// harmless (they add 0 to every distance); all rows identical -> every LOF is exactly 1; more than
// k copies of a row -> lrd 1e10 for them, as scikit-learn.
// Duplicates cost nothing extra: NeighbourIndex searches the distinct rows only and the results are
// bit-identical to an ungrouped search (tests/baselines/lof_test.cpp checks them against LOF
// computed from brute-force lists).
// diagnostic_info(): lof.n_neighbors (effective k), lof.distinct_training_rows,
// lof.exact_fallback_rows (distinct rows the float32 screening could not settle).
// Determinism: no randomness; identical for any ctx.threads (see NeighbourIndex).
// model_size_bytes(): the stored training rows and their screening copy, kdist and lrd.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "opsbench/baselines/neighbour_search.h"
#include "opsbench/core/method.h"
#include "opsbench/core/options.h"

namespace opsbench {

struct LofOptions {
  int n_neighbors = 20;
  bool novelty = true;

  static std::vector<OptionDecl> declarations();
  static LofOptions from(const Options& options);
};

class Lof : public Detector {
 public:
  explicit Lof(LofOptions options = {});

  void fit(const Table& train, const Context& ctx) override;
  std::vector<double> score(const Table& rows, const Context& ctx) const override;
  std::size_t model_size_bytes() const override;
  std::map<std::string, std::string> diagnostic_info() const override;

  void fit_matrix(const Matrix& x, const Context& ctx);
  std::vector<double> score_matrix(const Matrix& x, const Context& ctx) const;

  // LOF of every training row (scikit-learn: -negative_outlier_factor_).
  const std::vector<double>& training_outlier_factors() const { return training_lof_; }
  std::size_t effective_neighbors() const { return k_; }

 private:
  LofOptions options_;
  NeighbourIndex index_;
  std::size_t k_ = 0;
  std::vector<double> kdist_;
  std::vector<double> lrd_;
  std::vector<double> training_lof_;
  std::size_t fallback_rows_ = 0;
};

}  // namespace opsbench
