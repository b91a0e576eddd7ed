// Local Outlier Factor: see the header for the definitions and how they match scikit-learn 1.2.1.
#include "opsbench/baselines/lof.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "opsbench/core/error.h"

namespace opsbench {
namespace {

// scikit-learn's guard against division by zero in the local reachability density.
constexpr double kLrdEpsilon = 1e-10;

// lrd of every query row from its neighbours among the training rows with k-distances `kdist`.
std::vector<double> reachability_density(const Neighbours& nb, const std::vector<double>& kdist) {
  std::vector<double> lrd(nb.rows);
  for (std::size_t r = 0; r < nb.rows; ++r) {
    const double* dist = nb.distance_row(r);
    const std::int32_t* idx = nb.index_row(r);
    double sum = 0;
    for (std::size_t c = 0; c < nb.k; ++c) sum += std::max(dist[c], kdist[static_cast<std::size_t>(idx[c])]);
    lrd[r] = 1.0 / (sum / static_cast<double>(nb.k) + kLrdEpsilon);
  }
  return lrd;
}

std::vector<double> outlier_factors(const Neighbours& nb, const std::vector<double>& lrd_rows,
                                    const std::vector<double>& lrd_train) {
  std::vector<double> lof(nb.rows);
  for (std::size_t r = 0; r < nb.rows; ++r) {
    const std::int32_t* idx = nb.index_row(r);
    double sum = 0;
    for (std::size_t c = 0; c < nb.k; ++c) sum += lrd_train[static_cast<std::size_t>(idx[c])] / lrd_rows[r];
    lof[r] = sum / static_cast<double>(nb.k);
  }
  return lof;
}

}  // namespace

std::vector<OptionDecl> LofOptions::declarations() {
  return {
      OptionDecl::integer("n_neighbors", 20, 1, 100000,
                          "neighbours k; capped at training rows - 1 (effective k in diagnostics)"),
      OptionDecl::boolean("novelty", true,
                          "true: score rows against the training rows; false: LOF of the scored rows "
                          "among themselves (scikit-learn's outlier mode, fit_predict)"),
  };
}

LofOptions LofOptions::from(const Options& options) {
  LofOptions o;
  o.n_neighbors = static_cast<int>(options.get_int("n_neighbors"));
  o.novelty = options.get_bool("novelty");
  return o;
}

Lof::Lof(LofOptions options) : options_(options) {
  if (options_.n_neighbors < 1) throw ConfigError("lof: n_neighbors must be >= 1");
}

void Lof::fit(const Table& train, const Context& ctx) { fit_matrix(train.to_matrix(), ctx); }

std::vector<double> Lof::score(const Table& rows, const Context& ctx) const {
  return score_matrix(rows.to_matrix(), ctx);
}

void Lof::fit_matrix(const Matrix& x, const Context& ctx) {
  if (x.rows < 2) throw DataError(fmt::format("lof fit: needs at least 2 training rows, got {}", x.rows));
  if (x.cols == 0) throw DataError("lof fit: the training table has no feature columns");
  require_finite_matrix(x, "lof fit");
  k_ = std::min<std::size_t>(static_cast<std::size_t>(options_.n_neighbors), x.rows - 1);
  index_.fit(x);
  const Neighbours nb = index_.query(x, k_, /*exclude_self=*/true, ctx.threads);
  fallback_rows_ = nb.fallback_rows;
  kdist_.resize(x.rows);
  for (std::size_t r = 0; r < x.rows; ++r) kdist_[r] = nb.distance_row(r)[k_ - 1];
  lrd_ = reachability_density(nb, kdist_);
  training_lof_ = outlier_factors(nb, lrd_, lrd_);
}

std::vector<double> Lof::score_matrix(const Matrix& x, const Context& ctx) const {
  if (lrd_.empty()) throw ModelError("lof: score() called before fit()");
  if (x.cols != index_.dims())
    throw DataError(
        fmt::format("lof score: {} feature columns, but the model was fitted on {}", x.cols, index_.dims()));
  require_finite_matrix(x, "lof score");
  if (x.rows == 0) return {};
  if (!options_.novelty) {
    Lof own(options_);
    own.fit_matrix(x, ctx);
    return own.training_lof_;
  }
  const Neighbours nb = index_.query(x, k_, /*exclude_self=*/false, ctx.threads);
  return outlier_factors(nb, reachability_density(nb, kdist_), lrd_);
}

std::size_t Lof::model_size_bytes() const {
  return index_.memory_bytes() + (kdist_.size() + lrd_.size()) * sizeof(double);
}

std::map<std::string, std::string> Lof::diagnostic_info() const {
  return {{"lof.n_neighbors", std::to_string(k_)},
          {"lof.exact_fallback_rows", std::to_string(fallback_rows_)},
          {"lof.distinct_training_rows", std::to_string(index_.distinct_rows())}};
}

}  // namespace opsbench
