// k-nearest-neighbour distance detector (Ramaswamy, Rastogi, Shim, SIGMOD 2000; Angiulli and
// Pizzuti 2002), as PyOD's KNN scores new rows.
//
// Fit stores the training rows (NeighbourIndex). Score of a row: with its k = min(n_neighbors, n)
// nearest training rows (Euclidean; a row that is also a training row finds itself at distance 0),
//   method = largest   the distance to the k-th neighbour
//   method = mean      the mean distance to the k neighbours
//   method = median    the median of the k distances (mean of the middle two for even k)
// Higher = more anomalous. k is capped at the training size (diagnostic_info()["knn.n_neighbors"]).
// Bad input: NaN/Inf or an empty training table -> DataError; fewer training rows than
// n_neighbors -> k capped. Duplicate rows are searched once (NeighbourIndex), with the same
// distances as without grouping. Deterministic for any ctx.threads.
// diagnostic_info(): knn.n_neighbors (effective k), knn.distinct_training_rows.
// model_size_bytes(): the distinct training rows, their screening copy and the row -> group maps.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "opsbench/baselines/neighbour_search.h"
#include "opsbench/core/method.h"
#include "opsbench/core/options.h"

namespace opsbench {

struct KnnDetectorOptions {
  int n_neighbors = 5;
  std::string method = "largest";  // largest | mean | median

  static std::vector<OptionDecl> declarations();
  static KnnDetectorOptions from(const Options& options);
};

class KnnDetector : public Detector {
 public:
  explicit KnnDetector(KnnDetectorOptions options = {});

  void fit(const Table& train, const Context& ctx) override;
  std::vector<double> score(const Table& rows, const Context& ctx) const override;
  std::size_t model_size_bytes() const override;
  std::map<std::string, std::string> diagnostic_info() const override;

  void fit_matrix(const Matrix& x, const Context& ctx);
  std::vector<double> score_matrix(const Matrix& x, const Context& ctx) const;

 private:
  KnnDetectorOptions options_;
  NeighbourIndex index_;
  std::size_t k_ = 0;
};

}  // namespace opsbench
