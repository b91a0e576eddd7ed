// PCA reconstruction-error detector: see the header for the contract.
#include "opsbench/baselines/pca_detector.h"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/core/parallel.h"

namespace opsbench {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Row blocks are sized from the shape alone (never from ctx.threads) so every row goes through the
// same arithmetic whatever the thread count.
constexpr std::size_t kBlockBytes = 4u << 20;
// Partial covariance matrices kept at once during fit, bounded in bytes.
constexpr std::size_t kGramBudgetBytes = 64u << 20;
constexpr std::size_t kMaxGramGroups = 8;

std::size_t block_rows_for(std::size_t cols) {
  return std::clamp<std::size_t>(kBlockBytes / (std::max<std::size_t>(cols, 1) * sizeof(double)), 64, 4096);
}

void require_finite(const Matrix& x, const char* what) {
  for (std::size_t r = 0; r < x.rows; ++r) {
    const double* row = x.row(r);
    for (std::size_t c = 0; c < x.cols; ++c) {
      if (!std::isfinite(row[c]))
        throw DataError(fmt::format("pca {}: non-finite value at row {}, column {}", what, r, c));
    }
  }
}

// (x[begin:end] - mean) / scale as an Eigen row-major block.
RowMatrix standardized_block(const Matrix& x, std::size_t begin, std::size_t end, const Eigen::RowVectorXd& mean,
                             const Eigen::RowVectorXd& inv_scale) {
  const Eigen::Map<const RowMatrix> raw(x.row(begin), static_cast<Eigen::Index>(end - begin),
                                        static_cast<Eigen::Index>(x.cols));
  return (raw.rowwise() - mean).array().rowwise() * inv_scale.array();
}

// Smallest eigenvalue used in a shyu sum, relative to the total variance.
constexpr double kEigenvalueFloor = 1e-9;

// numpy.quantile's default (linear interpolation between order statistics).
double linear_quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, values.size() - 1);
  return values[below] + (position - static_cast<double>(below)) * (values[above] - values[below]);
}

// A sum over its training quantile; a zero quantile (the sum is 0 on most training rows) leaves
// the sum in its own units, so any positive value still ranks above the training bulk.
double relative_to(double value, double quantile) { return quantile > 0 ? value / quantile : value; }

}  // namespace

std::vector<OptionDecl> PcaDetectorOptions::declarations() {
  return {
      OptionDecl::integer("n_components", 0, 0, 100000,
                          "components kept; 0 = the fewest whose explained variance exceeds `variance`"),
      OptionDecl::real("variance", 0.95, 1e-12, 1.0,
                       "explained-variance ratio to exceed when n_components = 0 (1 keeps all)"),
      OptionDecl::boolean("standardize", true,
                          "scale columns to unit population std before PCA (constant columns: scale 1)"),
      OptionDecl::choice("score", "reconstruction", {"reconstruction", "shyu", "shyu_major", "shyu_minor"},
                         "reconstruction: squared error outside the kept components; shyu_major / shyu_minor: "
                         "sum of y_i^2 / lambda_i over the major / minor components (Shyu et al. 2003); "
                         "shyu: the larger of the two sums, each divided by its training quantile"),
      OptionDecl::real("shyu_major_variance", 0.5, 1e-12, 1.0,
                       "shyu: major components = the fewest leading ones whose explained variance reaches this share"),
      OptionDecl::real("shyu_minor_eigenvalue", 0.20, 0.0, 1e300,
                       "shyu: minor components = the other components with eigenvalue below this"),
      OptionDecl::real("shyu_quantile", 0.99, 0.0, 1.0,
                       "shyu: training quantile each sum is divided by (score > 1 = the paper's OR rule at "
                       "this false-alarm level)"),
  };
}

PcaDetectorOptions PcaDetectorOptions::from(const Options& options) {
  PcaDetectorOptions o;
  o.n_components = static_cast<int>(options.get_int("n_components"));
  o.variance = options.get_double("variance");
  o.standardize = options.get_bool("standardize");
  const std::string score = options.get_string("score");
  o.score = score == "shyu"         ? PcaScore::kShyu
            : score == "shyu_major" ? PcaScore::kShyuMajor
            : score == "shyu_minor" ? PcaScore::kShyuMinor
                                    : PcaScore::kReconstruction;
  o.major_variance = options.get_double("shyu_major_variance");
  o.minor_eigenvalue = options.get_double("shyu_minor_eigenvalue");
  o.shyu_quantile = options.get_double("shyu_quantile");
  return o;
}

PcaDetector::PcaDetector(PcaDetectorOptions options) : options_(options) {
  if (options_.n_components < 0) throw ConfigError("pca: n_components must be >= 0");
  if (!(options_.variance > 0.0 && options_.variance <= 1.0)) throw ConfigError("pca: variance must be in (0, 1]");
  if (!(options_.major_variance > 0.0 && options_.major_variance <= 1.0))
    throw ConfigError("pca: shyu_major_variance must be in (0, 1]");
  if (!(options_.minor_eigenvalue >= 0.0)) throw ConfigError("pca: shyu_minor_eigenvalue must be >= 0");
  if (!(options_.shyu_quantile >= 0.0 && options_.shyu_quantile <= 1.0))
    throw ConfigError("pca: shyu_quantile must be in [0, 1]");
}

void PcaDetector::fit(const Table& train, const Context& ctx) { fit_matrix(train.to_matrix(), ctx); }

std::vector<double> PcaDetector::score(const Table& rows, const Context& ctx) const {
  return score_matrix(rows.to_matrix(), ctx);
}

void PcaDetector::fit_matrix(const Matrix& x, const Context& ctx) {
  if (x.rows < 2) throw DataError(fmt::format("pca fit: needs at least 2 training rows, got {}", x.rows));
  if (x.cols == 0) throw DataError("pca fit: the training table has no feature columns");
  if (options_.n_components > 0 && static_cast<std::size_t>(options_.n_components) > x.cols)
    throw DataError(
        fmt::format("pca fit: n_components={} exceeds the {} feature columns", options_.n_components, x.cols));
  require_finite(x, "fit");
  const std::size_t n = x.rows;
  const std::size_t d = x.cols;
  const auto di = static_cast<Eigen::Index>(d);

  // Mean and population variance in two passes (numerically safer than one).
  Eigen::RowVectorXd mean = Eigen::RowVectorXd::Zero(di);
  for (std::size_t r = 0; r < n; ++r) mean += Eigen::Map<const Eigen::RowVectorXd>(x.row(r), di);
  mean /= static_cast<double>(n);
  Eigen::RowVectorXd scale = Eigen::RowVectorXd::Ones(di);
  if (options_.standardize) {
    Eigen::RowVectorXd var = Eigen::RowVectorXd::Zero(di);
    for (std::size_t r = 0; r < n; ++r)
      var += (Eigen::Map<const Eigen::RowVectorXd>(x.row(r), di) - mean).array().square().matrix();
    var /= static_cast<double>(n);
    // scikit-learn 1.2.1 StandardScaler's test for a constant column: the variance is within its
    // own rounding error bound.
    const double eps = std::numeric_limits<double>::epsilon();
    const double nd = static_cast<double>(n);
    for (Eigen::Index j = 0; j < di; ++j) {
      const double bound = nd * eps * var[j] + (nd * mean[j] * eps) * (nd * mean[j] * eps);
      scale[j] = var[j] <= bound ? 1.0 : std::sqrt(var[j]);
    }
  }
  const Eigen::RowVectorXd inv_scale = scale.cwiseInverse();

  // Covariance from partial Gram matrices of fixed row groups, summed in group order.
  const std::size_t gram_bytes = d * d * sizeof(double);
  const std::size_t groups = std::clamp<std::size_t>(
      std::min(kGramBudgetBytes / std::max<std::size_t>(gram_bytes, 1), (n + 4095) / 4096), 1, kMaxGramGroups);
  const std::size_t group_rows = (n + groups - 1) / groups;
  const std::size_t block_rows = block_rows_for(d);
  std::vector<Eigen::MatrixXd> partial(groups);
  detail::parallel_blocks(groups, ctx.threads, [&](std::size_t g) {
    Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(di, di);
    const std::size_t end = std::min(n, (g + 1) * group_rows);
    for (std::size_t begin = g * group_rows; begin < end; begin += block_rows) {
      const RowMatrix z = standardized_block(x, begin, std::min(end, begin + block_rows), mean, inv_scale);
      gram.selfadjointView<Eigen::Lower>().rankUpdate(z.transpose());
    }
    partial[g] = std::move(gram);
  });
  Eigen::MatrixXd covariance = std::move(partial[0]);
  for (std::size_t g = 1; g < groups; ++g) covariance += partial[g];
  covariance /= static_cast<double>(n - 1);

  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(covariance);  // reads the lower triangle
  if (solver.info() != Eigen::Success) throw ModelError("pca fit: eigen-decomposition did not converge");
  // Eigenvalues come ascending; reverse to largest first. Round-off can make tiny ones negative.
  std::vector<double> eigenvalues(d);
  double total = 0;
  for (std::size_t j = 0; j < d; ++j) {
    eigenvalues[j] = std::max(0.0, solver.eigenvalues()[di - 1 - static_cast<Eigen::Index>(j)]);
    total += eigenvalues[j];
  }
  variance_ratio_.assign(d, 0.0);
  if (total > 0)
    for (std::size_t j = 0; j < d; ++j) variance_ratio_[j] = eigenvalues[j] / total;

  std::size_t k = 0;
  if (options_.n_components > 0) {
    k = static_cast<std::size_t>(options_.n_components);
  } else if (total == 0) {
    k = 0;  // every column constant: nothing to keep, the score is the distance to the training point
  } else if (options_.variance >= 1.0) {
    k = d;
  } else {
    // scikit-learn: searchsorted(cumsum(ratio), variance, side="right") + 1.
    double cumulative = 0;
    k = d;
    for (std::size_t j = 0; j < d; ++j) {
      cumulative += variance_ratio_[j];
      if (cumulative > options_.variance) {
        k = j + 1;
        break;
      }
    }
  }

  if (options_.score != PcaScore::kReconstruction) {
    if (total == 0) throw DataError("pca fit: score=shyu needs at least one training column that varies");
    // Major: the fewest leading components whose cumulative explained variance reaches the share.
    std::size_t major = d;
    double cumulative = 0;
    for (std::size_t j = 0; j < d; ++j) {
      cumulative += variance_ratio_[j];
      if (cumulative >= options_.major_variance) {
        major = j + 1;
        break;
      }
    }
    std::vector<std::size_t> chosen;
    for (std::size_t j = 0; j < major; ++j) chosen.push_back(j);
    for (std::size_t j = major; j < d; ++j)
      if (eigenvalues[j] < options_.minor_eigenvalue) chosen.push_back(j);
    num_major_ = major;
    num_minor_ = chosen.size() - major;
    // A direction without training variance would divide by zero: eigenvalues are floored at
    // 1e-9 of the total variance (a row off the training span still scores very high).
    const double floor = kEigenvalueFloor * total;
    k = chosen.size();
    components_.resize(d * k);
    inverse_eigenvalues_.resize(k);
    for (std::size_t c = 0; c < k; ++c) {
      const auto column = solver.eigenvectors().col(di - 1 - static_cast<Eigen::Index>(chosen[c]));
      std::copy(column.data(), column.data() + d, components_.begin() + static_cast<std::ptrdiff_t>(c * d));
      inverse_eigenvalues_[c] = 1.0 / std::max(eigenvalues[chosen[c]], floor);
    }
  }

  num_features_ = d;
  num_components_ = k;
  mean_.assign(mean.data(), mean.data() + d);
  scale_.assign(scale.data(), scale.data() + d);
  if (options_.score != PcaScore::kReconstruction) {
    // The paper's thresholds c1, c2: quantiles of the training rows' two sums.
    const std::vector<double> sums = shyu_sums(x, ctx);
    std::vector<double> major(n), minor(n);
    for (std::size_t r = 0; r < n; ++r) {
      major[r] = sums[2 * r];
      minor[r] = sums[2 * r + 1];
    }
    major_quantile_ = linear_quantile(std::move(major), options_.shyu_quantile);
    minor_quantile_ = linear_quantile(std::move(minor), options_.shyu_quantile);
    return;
  }
  components_.resize(d * k);
  for (std::size_t j = 0; j < k; ++j) {
    const auto column = solver.eigenvectors().col(di - 1 - static_cast<Eigen::Index>(j));
    std::copy(column.data(), column.data() + d, components_.begin() + static_cast<std::ptrdiff_t>(j * d));
  }
}

std::vector<double> PcaDetector::shyu_sums(const Matrix& x, const Context& ctx) const {
  std::vector<double> out(2 * x.rows);
  const auto di = static_cast<Eigen::Index>(num_features_);
  const auto ki = static_cast<Eigen::Index>(num_components_);
  const Eigen::Map<const Eigen::RowVectorXd> mean(mean_.data(), di);
  const Eigen::RowVectorXd inv_scale = Eigen::Map<const Eigen::RowVectorXd>(scale_.data(), di).cwiseInverse();
  const Eigen::Map<const Eigen::MatrixXd> v(components_.data(), di, ki);
  const Eigen::Map<const Eigen::RowVectorXd> inv_lambda(inverse_eigenvalues_.data(), ki);
  const auto major = static_cast<Eigen::Index>(num_major_);
  const std::size_t block_rows = block_rows_for(num_features_);
  const std::size_t blocks = (x.rows + block_rows - 1) / block_rows;
  detail::parallel_blocks(blocks, ctx.threads, [&](std::size_t b) {
    const std::size_t begin = b * block_rows;
    const std::size_t end = std::min(x.rows, begin + block_rows);
    const RowMatrix y = standardized_block(x, begin, end, mean, inv_scale) * v;
    const Eigen::ArrayXXd weighted = y.array().square().rowwise() * inv_lambda.array();
    for (Eigen::Index i = 0; i < weighted.rows(); ++i) {
      out[2 * (begin + static_cast<std::size_t>(i))] = weighted.row(i).head(major).sum();
      out[2 * (begin + static_cast<std::size_t>(i)) + 1] = weighted.row(i).tail(ki - major).sum();
    }
  });
  return out;
}

std::vector<double> PcaDetector::score_matrix(const Matrix& x, const Context& ctx) const {
  if (mean_.empty()) throw ModelError("pca: score() called before fit()");
  if (x.cols != num_features_)
    throw DataError(
        fmt::format("pca score: {} feature columns, but the model was fitted on {}", x.cols, num_features_));
  require_finite(x, "score");
  std::vector<double> out(x.rows);
  if (x.rows == 0) return out;
  if (options_.score != PcaScore::kReconstruction) {
    const std::vector<double> sums = shyu_sums(x, ctx);
    for (std::size_t r = 0; r < x.rows; ++r) {
      const double major = sums[2 * r], minor = sums[2 * r + 1];
      switch (options_.score) {
        case PcaScore::kShyuMajor:
          out[r] = major;
          break;
        case PcaScore::kShyuMinor:
          out[r] = minor;
          break;
        default:
          out[r] =
              std::max(relative_to(major, major_quantile_), num_minor_ > 0 ? relative_to(minor, minor_quantile_) : 0.0);
      }
    }
    return out;
  }

  const auto di = static_cast<Eigen::Index>(num_features_);
  const auto ki = static_cast<Eigen::Index>(num_components_);
  const Eigen::Map<const Eigen::RowVectorXd> mean(mean_.data(), di);
  const Eigen::RowVectorXd inv_scale = Eigen::Map<const Eigen::RowVectorXd>(scale_.data(), di).cwiseInverse();
  const Eigen::Map<const Eigen::MatrixXd> v(components_.data(), di, ki);
  const std::size_t block_rows = block_rows_for(num_features_);
  const std::size_t blocks = (x.rows + block_rows - 1) / block_rows;
  detail::parallel_blocks(blocks, ctx.threads, [&](std::size_t b) {
    const std::size_t begin = b * block_rows;
    const std::size_t end = std::min(x.rows, begin + block_rows);
    RowMatrix z = standardized_block(x, begin, end, mean, inv_scale);
    if (ki > 0) {
      const RowMatrix projected = z * v;
      z.noalias() -= projected * v.transpose();
    }
    Eigen::Map<Eigen::VectorXd>(out.data() + begin, static_cast<Eigen::Index>(end - begin)) = z.rowwise().squaredNorm();
  });
  return out;
}

std::size_t PcaDetector::model_size_bytes() const {
  return (mean_.size() + scale_.size() + components_.size() + inverse_eigenvalues_.size()) * sizeof(double);
}

std::map<std::string, std::string> PcaDetector::diagnostic_info() const {
  if (options_.score == PcaScore::kReconstruction) return {{"pca.n_components", std::to_string(num_components_)}};
  return {{"pca.major_components", std::to_string(num_major_)},
          {"pca.minor_components", std::to_string(num_minor_)},
          {"pca.major_quantile", fmt::format("{:.17g}", major_quantile_)},
          {"pca.minor_quantile", fmt::format("{:.17g}", minor_quantile_)}};
}

}  // namespace opsbench
