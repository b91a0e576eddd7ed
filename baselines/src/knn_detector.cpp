// k-nearest-neighbour distance detector: see the header.
#include "opsbench/baselines/knn_detector.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "opsbench/core/error.h"

namespace opsbench {

std::vector<OptionDecl> KnnDetectorOptions::declarations() {
  return {
      OptionDecl::integer("n_neighbors", 5, 1, 100000, "neighbours k; capped at the training rows"),
      OptionDecl::choice("method", "largest", {"largest", "mean", "median"},
                         "largest: distance to the k-th neighbour; mean / median of the k distances"),
  };
}

KnnDetectorOptions KnnDetectorOptions::from(const Options& options) {
  KnnDetectorOptions o;
  o.n_neighbors = static_cast<int>(options.get_int("n_neighbors"));
  o.method = options.get_string("method");
  return o;
}

KnnDetector::KnnDetector(KnnDetectorOptions options) : options_(std::move(options)) {
  if (options_.n_neighbors < 1) throw ConfigError("knn: n_neighbors must be >= 1");
  if (options_.method != "largest" && options_.method != "mean" && options_.method != "median")
    throw ConfigError("knn: method must be one of largest, mean, median; got '" + options_.method + "'");
}

void KnnDetector::fit(const Table& train, const Context& ctx) { fit_matrix(train.to_matrix(), ctx); }

std::vector<double> KnnDetector::score(const Table& rows, const Context& ctx) const {
  return score_matrix(rows.to_matrix(), ctx);
}

void KnnDetector::fit_matrix(const Matrix& x, const Context& /*ctx*/) {
  if (x.rows == 0) throw DataError("knn fit: the training table has no rows");
  if (x.cols == 0) throw DataError("knn fit: the training table has no feature columns");
  require_finite_matrix(x, "knn fit");
  k_ = std::min<std::size_t>(static_cast<std::size_t>(options_.n_neighbors), x.rows);
  index_.fit(x);
}

std::vector<double> KnnDetector::score_matrix(const Matrix& x, const Context& ctx) const {
  if (index_.empty()) throw ModelError("knn: score() called before fit()");
  if (x.cols != index_.dims())
    throw DataError(
        fmt::format("knn score: {} feature columns, but the model was fitted on {}", x.cols, index_.dims()));
  require_finite_matrix(x, "knn score");
  std::vector<double> out(x.rows);
  if (x.rows == 0) return out;
  const Neighbours nb = index_.query(x, k_, /*exclude_self=*/false, ctx.threads);
  for (std::size_t r = 0; r < x.rows; ++r) {
    const double* dist = nb.distance_row(r);
    if (options_.method == "largest") {
      out[r] = dist[k_ - 1];
    } else if (options_.method == "mean") {
      double sum = 0;
      for (std::size_t c = 0; c < k_; ++c) sum += dist[c];
      out[r] = sum / static_cast<double>(k_);
    } else {
      out[r] = k_ % 2 == 1 ? dist[k_ / 2] : 0.5 * (dist[k_ / 2 - 1] + dist[k_ / 2]);
    }
  }
  return out;
}

std::size_t KnnDetector::model_size_bytes() const { return index_.memory_bytes(); }

std::map<std::string, std::string> KnnDetector::diagnostic_info() const {
  return {{"knn.n_neighbors", std::to_string(k_)},
          {"knn.distinct_training_rows", std::to_string(index_.distinct_rows())}};
}

}  // namespace opsbench
