// IsolationForest: see the header for the algorithm and how it matches scikit-learn 1.2.1.
#include "opsbench/baselines/isolation_forest.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/core/parallel.h"

namespace opsbench {
namespace {

// numpy.euler_gamma, as scikit-learn uses (0.5772156649 alone differs from it by 1.5e-11).
constexpr double kEulerGamma = 0.5772156649015329;
// scikit-learn's tree splitter treats a feature as constant in a node when max <= min + 1e-7.
constexpr double kConstantTolerance = 1e-7;
// Rows scored together against every tree: keeps the rows of a block in L2 while each tree's
// nodes stay in L1.
constexpr std::size_t kScoreBlockBytes = 256 * 1024;

// Seeds of the per-tree engines: SplitMix64 finaliser of (seed, tree), so neighbouring trees and
// neighbouring seeds get unrelated streams.
std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Own conversions from engine output, because the std distributions are implementation-defined:
// the same seed must give the same forest with every standard library.
class TreeRng {
 public:
  explicit TreeRng(std::uint64_t seed) : engine_(seed) {}
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, bound), bound >= 1 (rejection sampling, no modulo bias).
  std::uint64_t below(std::uint64_t bound) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    std::uint64_t v;
    do {
      v = engine_();
    } while (v >= limit);
    return v % bound;
  }

 private:
  std::mt19937_64 engine_;
};

// k distinct values of [0, n), sorted. Robert Floyd's algorithm: k draws whatever n is.
std::vector<std::int64_t> sample_without_replacement(std::int64_t n, std::int64_t k, TreeRng& rng) {
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(k));
  if (k >= n) {
    out.resize(static_cast<std::size_t>(n));
    std::iota(out.begin(), out.end(), 0);
    return out;
  }
  if (k * 8 >= n) {
    std::vector<std::uint8_t> taken(static_cast<std::size_t>(n), 0);
    for (std::int64_t j = n - k; j < n; ++j) {
      auto t = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(j) + 1));
      if (taken[t]) t = j;
      taken[t] = 1;
    }
    for (std::int64_t i = 0; i < n; ++i)
      if (taken[i]) out.push_back(i);
    return out;
  }
  std::unordered_set<std::int64_t> taken;
  taken.reserve(static_cast<std::size_t>(2 * k));
  for (std::int64_t j = n - k; j < n; ++j) {
    auto t = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(j) + 1));
    if (!taken.insert(t).second) taken.insert(j);
  }
  out.assign(taken.begin(), taken.end());
  std::sort(out.begin(), out.end());
  return out;
}

// One tree's nodes before they are appended to the forest's flat arrays (indices local).
struct TreeNodes {
  std::vector<std::int32_t> feature;
  std::vector<double> threshold;
  std::vector<std::int32_t> left;
  std::vector<double> leaf_path;
  int depth = 0;  // deepest leaf

  // A new node is a leaf until split: it loops to itself (see the header).
  std::int32_t add_node() {
    const auto index = static_cast<std::int32_t>(feature.size());
    feature.push_back(0);
    threshold.push_back(std::numeric_limits<double>::infinity());
    left.push_back(index);
    leaf_path.push_back(0.0);
    return index;
  }
};

// Grows one isolation tree on the rows and columns drawn for it.
TreeNodes grow_tree(const Matrix& x, std::int64_t psi, bool bootstrap, std::size_t tree_features, int max_depth,
                    TreeRng& rng) {
  const auto n = static_cast<std::int64_t>(x.rows);
  std::vector<std::int64_t> rows;
  if (bootstrap) {
    rows.resize(static_cast<std::size_t>(psi));
    for (auto& r : rows) r = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n)));
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  } else {
    rows = sample_without_replacement(n, psi, rng);
  }
  const std::vector<std::int64_t> columns =
      sample_without_replacement(static_cast<std::int64_t>(x.cols), static_cast<std::int64_t>(tree_features), rng);

  // Column-major copy of the drawn sub-matrix: a node's min/max scans one short contiguous column.
  const std::size_t m = rows.size();
  const std::size_t k = columns.size();
  std::vector<double> values(m * k);
  for (std::size_t i = 0; i < m; ++i) {
    const double* src = x.row(static_cast<std::size_t>(rows[i]));
    for (std::size_t f = 0; f < k; ++f) values[f * m + i] = src[columns[f]];
  }

  std::vector<std::int32_t> index(m);
  std::iota(index.begin(), index.end(), 0);
  std::vector<std::size_t> candidates(k);  // features in a random order, reshuffled per node
  std::iota(candidates.begin(), candidates.end(), 0);

  TreeNodes tree;
  struct Pending {
    std::int32_t node;
    std::size_t begin, end;
    int depth;
  };
  std::vector<Pending> stack;
  stack.push_back({tree.add_node(), 0, m, 0});
  while (!stack.empty()) {
    const Pending p = stack.back();
    stack.pop_back();
    const std::size_t count = p.end - p.begin;
    std::size_t chosen = k;
    double low = 0, high = 0;
    if (count >= 2 && p.depth < max_depth) {
      // Draw features without replacement until one is not constant in the node: uniform over the
      // non-constant features, like scikit-learn's random splitter with max_features=1.
      for (std::size_t drawn = 0; drawn < k && chosen == k; ++drawn) {
        std::swap(candidates[drawn], candidates[drawn + rng.below(k - drawn)]);
        const double* column = values.data() + candidates[drawn] * m;
        low = high = column[index[p.begin]];
        for (std::size_t i = p.begin + 1; i < p.end; ++i) {
          const double v = column[index[i]];
          low = std::min(low, v);
          high = std::max(high, v);
        }
        if (high > low + kConstantTolerance) chosen = candidates[drawn];
      }
    }
    if (chosen == k) {
      tree.leaf_path[p.node] = p.depth + iforest_average_path_length(static_cast<double>(count));
      tree.depth = std::max(tree.depth, p.depth);
      continue;
    }
    double threshold = low + rng.uniform() * (high - low);
    if (threshold >= high) threshold = low;  // rounding reached the top: keep both sides non-empty
    const double* column = values.data() + chosen * m;
    const auto middle = std::partition(index.begin() + static_cast<std::ptrdiff_t>(p.begin),
                                       index.begin() + static_cast<std::ptrdiff_t>(p.end),
                                       [&](std::int32_t i) { return column[i] <= threshold; });
    const auto split = static_cast<std::size_t>(middle - index.begin());
    const std::int32_t left = tree.add_node();
    const std::int32_t right = tree.add_node();
    tree.feature[p.node] = static_cast<std::int32_t>(columns[chosen]);
    tree.threshold[p.node] = threshold;
    tree.left[p.node] = left;
    stack.push_back({right, split, p.end, p.depth + 1});
    stack.push_back({left, p.begin, split, p.depth + 1});
  }
  return tree;
}

void require_finite(const Matrix& x, const char* what) {
  for (std::size_t r = 0; r < x.rows; ++r) {
    const double* row = x.row(r);
    for (std::size_t c = 0; c < x.cols; ++c) {
      if (!std::isfinite(row[c]))
        throw DataError(fmt::format("iforest {}: non-finite value at row {}, column {}", what, r, c));
    }
  }
}

// Walks `Lanes` consecutive rows down one tree together. Every walk takes exactly `depth` steps
// (leaves loop to themselves), so the lanes are independent branch-free chains whose loads overlap.
constexpr std::size_t kLanes = 16;
struct Walker {
  const std::int32_t* feature;
  const double* threshold;
  const std::int32_t* left;
  const double* leaf_path;
  std::int32_t root;
  int depth;

  template <std::size_t Lanes>
  void walk(const Matrix& x, std::size_t first, double* sums) const {
    const double* rows[Lanes];
    std::int32_t node[Lanes];
    for (std::size_t l = 0; l < Lanes; ++l) {
      rows[l] = x.row(first + l);
      node[l] = root;
    }
    for (int step = 0; step < depth; ++step)
      for (std::size_t l = 0; l < Lanes; ++l)
        node[l] = left[node[l]] + (rows[l][feature[node[l]]] > threshold[node[l]]);
    for (std::size_t l = 0; l < Lanes; ++l) sums[l] += leaf_path[node[l]];
  }
};

}  // namespace

double iforest_average_path_length(double n) {
  if (n <= 1.0) return 0.0;
  if (n <= 2.0) return 1.0;
  return 2.0 * (std::log(n - 1.0) + kEulerGamma) - 2.0 * (n - 1.0) / n;
}

std::vector<OptionDecl> IsolationForestOptions::declarations() {
  return {
      OptionDecl::integer("n_estimators", 100, 1, 100000, "number of isolation trees"),
      OptionDecl::integer("max_samples", 256, 2, 1e12,
                          "rows drawn per tree (psi); capped at the number of training rows"),
      OptionDecl::real("max_features", 1.0, 1e-12, 1.0,
                       "fraction of columns drawn per tree: max(1, floor(max_features * d))"),
      OptionDecl::boolean("bootstrap", false, "draw each tree's rows with replacement"),
  };
}

IsolationForestOptions IsolationForestOptions::from(const Options& options) {
  IsolationForestOptions o;
  o.n_estimators = static_cast<int>(options.get_int("n_estimators"));
  o.max_samples = options.get_int("max_samples");
  o.max_features = options.get_double("max_features");
  o.bootstrap = options.get_bool("bootstrap");
  return o;
}

IsolationForest::IsolationForest(IsolationForestOptions options) : options_(options) {
  if (options_.n_estimators < 1) throw ConfigError("iforest: n_estimators must be >= 1");
  if (options_.max_samples < 2) throw ConfigError("iforest: max_samples must be >= 2");
  if (!(options_.max_features > 0.0 && options_.max_features <= 1.0))
    throw ConfigError("iforest: max_features must be in (0, 1]");
}

void IsolationForest::fit(const Table& train, const Context& ctx) { fit_matrix(train.to_matrix(), ctx); }

std::vector<double> IsolationForest::score(const Table& rows, const Context& ctx) const {
  return score_matrix(rows.to_matrix(), ctx);
}

void IsolationForest::fit_matrix(const Matrix& x, const Context& ctx) {
  if (x.rows == 0) throw DataError("iforest fit: the training table has no rows");
  if (x.cols == 0) throw DataError("iforest fit: the training table has no feature columns");
  if (x.rows > static_cast<std::size_t>(INT32_MAX))
    throw DataError("iforest fit: more than 2^31 rows are not supported");
  require_finite(x, "fit");

  num_features_ = x.cols;
  psi_ = std::min<std::int64_t>(options_.max_samples, static_cast<std::int64_t>(x.rows));
  const int max_depth = static_cast<int>(std::ceil(std::log2(static_cast<double>(std::max<std::int64_t>(psi_, 2)))));
  const std::size_t tree_features =
      std::max<std::size_t>(1, static_cast<std::size_t>(options_.max_features * static_cast<double>(x.cols)));

  const auto trees = static_cast<std::size_t>(options_.n_estimators);
  std::vector<TreeNodes> grown(trees);
  detail::parallel_blocks(trees, ctx.threads, [&](std::size_t t) {
    TreeRng rng(mix64(ctx.seed ^ mix64(static_cast<std::uint64_t>(t))));
    grown[t] = grow_tree(x, psi_, options_.bootstrap, tree_features, max_depth, rng);
  });

  std::size_t total = 0;
  for (const auto& tree : grown) total += tree.feature.size();
  feature_.clear();
  threshold_.clear();
  left_.clear();
  leaf_path_.clear();
  roots_.clear();
  depths_.clear();
  feature_.reserve(total);
  threshold_.reserve(total);
  left_.reserve(total);
  leaf_path_.reserve(total);
  roots_.reserve(trees);
  for (auto& tree : grown) {
    const auto base = static_cast<std::int32_t>(feature_.size());
    roots_.push_back(base);
    depths_.push_back(tree.depth);
    for (auto& l : tree.left) l += base;
    feature_.insert(feature_.end(), tree.feature.begin(), tree.feature.end());
    threshold_.insert(threshold_.end(), tree.threshold.begin(), tree.threshold.end());
    left_.insert(left_.end(), tree.left.begin(), tree.left.end());
    leaf_path_.insert(leaf_path_.end(), tree.leaf_path.begin(), tree.leaf_path.end());
    tree = TreeNodes{};
  }
}

std::vector<double> IsolationForest::score_matrix(const Matrix& x, const Context& ctx) const {
  if (roots_.empty()) throw ModelError("iforest: score() called before fit()");
  if (x.cols != num_features_)
    throw DataError(
        fmt::format("iforest score: {} feature columns, but the model was fitted on {}", x.cols, num_features_));
  require_finite(x, "score");
  std::vector<double> out(x.rows);
  if (x.rows == 0) return out;

  const double denominator =
      static_cast<double>(roots_.size()) * iforest_average_path_length(static_cast<double>(psi_));
  // Block boundaries depend on the data shape only, never on ctx.threads.
  const std::size_t block_rows = std::clamp<std::size_t>(kScoreBlockBytes / (x.cols * sizeof(double)), 8, 4096);
  const std::size_t blocks = (x.rows + block_rows - 1) / block_rows;
  const std::int32_t* feature = feature_.data();
  const double* threshold = threshold_.data();
  const std::int32_t* left = left_.data();
  const double* leaf_path = leaf_path_.data();

  detail::parallel_blocks(blocks, ctx.threads, [&](std::size_t b) {
    const std::size_t begin = b * block_rows;
    const std::size_t end = std::min(x.rows, begin + block_rows);
    double* sums = out.data() + begin;  // path-length sums, in tree order for every row
    std::fill(sums, out.data() + end, 0.0);
    for (std::size_t t = 0; t < roots_.size(); ++t) {
      const Walker walker{feature, threshold, left, leaf_path, roots_[t], depths_[t]};
      std::size_t r = begin;
      for (; r + kLanes <= end; r += kLanes) walker.walk<kLanes>(x, r, sums + (r - begin));
      for (; r < end; ++r) walker.walk<1>(x, r, sums + (r - begin));
    }
    for (std::size_t r = begin; r < end; ++r) out[r] = denominator > 0 ? std::exp2(-out[r] / denominator) : 0.5;
  });
  return out;
}

std::size_t IsolationForest::model_size_bytes() const {
  return feature_.size() * sizeof(std::int32_t) + threshold_.size() * sizeof(double) +
         left_.size() * sizeof(std::int32_t) + leaf_path_.size() * sizeof(double) +
         (roots_.size() + depths_.size()) * sizeof(std::int32_t);
}

}  // namespace opsbench
