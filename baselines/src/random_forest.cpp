// Random forest: see the header for the behaviour and how it matches scikit-learn 1.2.1.
#include "opsbench/baselines/random_forest.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <random>

#include "opsbench/core/error.h"
#include "opsbench/core/parallel.h"
#include "opsbench/core/portable_random.h"

namespace opsbench {
namespace {

// SplitMix64 finaliser: unrelated engine seeds for neighbouring trees and seeds.
std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::mt19937_64 tree_engine(std::uint64_t seed, std::size_t t) {
  return std::mt19937_64(mix64(seed ^ mix64(0xf0e57ULL + static_cast<std::uint64_t>(t))));
}

// Bootstrap counts of one tree: the first draws of its engine, so the out-of-bag pass can redraw
// them without storing them.
std::vector<std::uint32_t> bootstrap_counts(std::mt19937_64& rng, std::size_t n, bool bootstrap) {
  std::vector<std::uint32_t> counts(n, bootstrap ? 0u : 1u);
  if (bootstrap)
    for (std::size_t i = 0; i < n; ++i) ++counts[uniform_below(rng, n)];
  return counts;
}

}  // namespace

std::vector<OptionDecl> RandomForestOptions::declarations() {
  std::vector<OptionDecl> decls = {
      OptionDecl::integer("n_estimators", 100, 1, 100000, "number of trees"),
      OptionDecl::boolean("bootstrap", true, "grow each tree on a bootstrap draw of n rows (else on every row)"),
      OptionDecl::choice("class_weight", "none", {"none", "balanced", "balanced_subsample"},
                         "row weights per class: none; balanced = n / (classes * count) on the training set; "
                         "balanced_subsample = the same on each tree's bootstrap draw"),
      OptionDecl::boolean("oob_score", false, "compute the out-of-bag accuracy (figure forest.oob_accuracy)"),
  };
  for (auto& d : tree_growth_declarations("sqrt")) decls.push_back(std::move(d));
  return decls;
}

RandomForestOptions RandomForestOptions::from(const Options& options) {
  RandomForestOptions o;
  o.n_estimators = static_cast<int>(options.get_int("n_estimators"));
  o.growth = tree_growth_from(options);
  o.bootstrap = options.get_bool("bootstrap");
  o.class_weight = options.get_string("class_weight");
  o.oob_score = options.get_bool("oob_score");
  return o;
}

RandomForest::RandomForest(RandomForestOptions options) : options_(std::move(options)) {
  if (options_.n_estimators < 1) throw ConfigError("forest: n_estimators must be >= 1");
}

void RandomForest::fit(const Table& train, const std::vector<int>& labels, int num_classes, const Context& ctx) {
  fit_matrix(train.to_matrix(), labels, num_classes, ctx);
}

Matrix RandomForest::predict_proba(const Table& rows, const Context& ctx) const {
  return predict_proba_matrix(rows.to_matrix(), ctx);
}

void RandomForest::fit_matrix(const Matrix& x, const std::vector<int>& labels, int num_classes, const Context& ctx) {
  check_classifier_input(x, labels, num_classes, "forest");
  const bool subsample = options_.class_weight == "balanced_subsample";
  const auto cw = class_weights(subsample ? "none" : options_.class_weight, labels, num_classes);
  const std::vector<std::int32_t> presorted = presort_columns(x);
  const std::size_t n = x.rows;
  const auto trees = static_cast<std::size_t>(options_.n_estimators);
  std::vector<FlatTree> grown(trees);
  detail::parallel_blocks(trees, ctx.threads, [&](std::size_t t) {
    std::mt19937_64 rng = tree_engine(ctx.seed, t);
    const auto counts = bootstrap_counts(rng, n, options_.bootstrap);
    std::vector<double> class_w = cw;
    if (subsample) {
      std::vector<double> per_class(static_cast<std::size_t>(num_classes), 0.0);
      for (std::size_t r = 0; r < n; ++r) per_class[static_cast<std::size_t>(labels[r])] += counts[r];
      for (std::size_t c = 0; c < per_class.size(); ++c)
        class_w[c] = per_class[c] > 0 ? static_cast<double>(n) / (num_classes * per_class[c]) : 0.0;
    }
    std::vector<double> weight(n);
    for (std::size_t r = 0; r < n; ++r) weight[r] = counts[r] * class_w[static_cast<std::size_t>(labels[r])];
    SortedRows rows = select_rows(x, labels, weight, presorted);
    if (rows.rows == 0) throw DataError("forest fit: a bootstrap draw kept no row with a non-zero class weight");
    grown[t] = grow_cart(rows, num_classes, options_.growth, rng);
  });
  trees_ = std::move(grown);
  classes_ = num_classes;
  num_features_ = x.cols;

  oob_accuracy_.reset();
  if (options_.oob_score && options_.bootstrap) {
    // Sequential in tree order: the sums, hence the argmax on ties, never depend on the threads.
    const auto k = static_cast<std::size_t>(num_classes);
    std::vector<double> sums(n * k, 0.0);
    std::vector<std::uint8_t> seen(n, 0);
    for (std::size_t t = 0; t < trees; ++t) {
      std::mt19937_64 rng = tree_engine(ctx.seed, t);
      const auto counts = bootstrap_counts(rng, n, true);
      for (std::size_t r = 0; r < n; ++r) {
        if (counts[r] != 0) continue;
        const double* p = trees_[t].leaf(x.row(r));
        for (std::size_t c = 0; c < k; ++c) sums[r * k + c] += p[c];
        seen[r] = 1;
      }
    }
    std::size_t used = 0, correct = 0;
    for (std::size_t r = 0; r < n; ++r) {
      if (!seen[r]) continue;
      ++used;
      const double* s = sums.data() + r * k;
      correct += static_cast<std::size_t>(std::max_element(s, s + k) - s) == static_cast<std::size_t>(labels[r]);
    }
    if (used > 0) oob_accuracy_ = static_cast<double>(correct) / static_cast<double>(used);
  }
}

Matrix RandomForest::predict_proba_matrix(const Matrix& x, const Context& ctx) const {
  if (trees_.empty()) throw ModelError("forest: predict_proba() called before fit()");
  if (x.cols != num_features_)
    throw DataError(
        fmt::format("forest predict: {} feature columns, but the model was fitted on {}", x.cols, num_features_));
  require_finite_rows(x, "forest");
  const auto k = static_cast<std::size_t>(classes_);
  Matrix out(x.rows, k, 0.0);
  // Block boundaries depend on the row count only; each block sums the trees in index order.
  constexpr std::size_t kBlock = 256;
  const double scale = 1.0 / static_cast<double>(trees_.size());
  detail::parallel_blocks((x.rows + kBlock - 1) / kBlock, ctx.threads, [&](std::size_t b) {
    const std::size_t begin = b * kBlock, end = std::min(x.rows, begin + kBlock);
    for (const FlatTree& tree : trees_) {
      for (std::size_t r = begin; r < end; ++r) {
        const double* p = tree.leaf(x.row(r));
        double* o = out.row(r);
        for (std::size_t c = 0; c < k; ++c) o[c] += p[c];
      }
    }
    for (std::size_t i = begin * k; i < end * k; ++i) out.data[i] *= scale;
  });
  return out;
}

std::size_t RandomForest::model_size_bytes() const {
  std::size_t bytes = 0;
  for (const auto& t : trees_) bytes += t.size_bytes();
  return bytes;
}

std::vector<Figure> RandomForest::diagnostics() const {
  std::vector<Figure> out;
  if (oob_accuracy_) {
    Figure f;
    f.name = "forest.oob_accuracy";
    f.value = *oob_accuracy_;
    f.unit = "ratio";
    f.source = "out-of-bag rows of the training part";
    out.push_back(f);
  }
  return out;
}

std::map<std::string, std::string> RandomForest::diagnostic_info() const {
  std::size_t nodes = 0;
  int depth = 0;
  for (const auto& t : trees_) {
    nodes += t.num_nodes();
    depth = std::max(depth, t.depth());
  }
  return {{"forest.nodes", std::to_string(nodes)}, {"forest.max_depth", std::to_string(depth)}};
}

}  // namespace opsbench
