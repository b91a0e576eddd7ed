// CART decision tree: see the header for the rules and how they match scikit-learn 1.2.1.
//
// Why pre-sorted columns: every feature's rows are kept sorted inside each node's segment and
// stable-partitioned when the node splits, so finding a split is one linear scan per feature and
// nothing is sorted after the first presort (scikit-learn sorts every evaluated feature at every
// node). Impurity sums are updated in O(1) per row for Gini.
#include "opsbench/baselines/decision_tree.h"

#include <fmt/format.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <numeric>

#include "opsbench/core/error.h"
#include "opsbench/core/parallel.h"
#include "opsbench/core/portable_random.h"

namespace opsbench {
namespace {

constexpr double kFeatureThreshold = 1e-7;  // scikit-learn's FEATURE_THRESHOLD

// Entropy in bits of weighted class counts with total `w`.
double entropy(const double* counts, int k, double w) {
  double h = 0;
  for (int c = 0; c < k; ++c) {
    if (counts[c] > 0) {
      const double p = counts[c] / w;
      h -= p * std::log2(p);
    }
  }
  return h;
}

struct Best {
  int feature = -1;
  std::size_t pos = 0;  // first position of the right child
  double threshold = 0;
  double proxy = -INFINITY;
};

class Builder {
 public:
  Builder(SortedRows& rows, int k, const TreeGrowth& growth, std::mt19937_64& rng)
      : rows_(rows), k_(k), growth_(growth), rng_(rng) {
    const std::size_t d = rows.features;
    max_features_ = growth.features_per_node(d);
    goes_left_.assign(rows.rows, 0);
    scratch_value_.resize(rows.rows);
    scratch_order_.resize(rows.rows);
    total_.resize(static_cast<std::size_t>(k));
    left_.resize(static_cast<std::size_t>(k));
    right_.resize(static_cast<std::size_t>(k));
    candidates_.resize(d);
  }

  FlatTree build() {
    tree_.classes = k_;
    struct Pending {
      std::int32_t node;
      std::size_t begin, end;
      int depth;
    };
    std::vector<Pending> stack;
    stack.push_back({add_node(), 0, rows_.rows, 0});
    while (!stack.empty()) {
      const Pending p = stack.back();
      stack.pop_back();
      const std::size_t n = p.end - p.begin;
      node_totals(p.begin, p.end);
      bool leaf = (growth_.max_depth > 0 && p.depth >= growth_.max_depth) ||
                  n < static_cast<std::size_t>(growth_.min_samples_split) ||
                  n < 2 * static_cast<std::size_t>(growth_.min_samples_leaf) || node_impurity() <= DBL_EPSILON;
      Best best;
      if (!leaf) {
        best = find_split(p.begin, p.end);
        leaf = best.feature < 0;
      }
      if (leaf) {
        make_leaf(p.node);
        continue;
      }
      partition(best, p.begin, p.end);
      const std::int32_t left = add_node();
      add_node();
      tree_.feature[p.node] = best.feature;
      tree_.threshold[p.node] = best.threshold;
      tree_.child[p.node] = left;
      stack.push_back({left + 1, best.pos, p.end, p.depth + 1});
      stack.push_back({left, p.begin, best.pos, p.depth + 1});
    }
    return std::move(tree_);
  }

 private:
  std::int32_t add_node() {
    const auto id = static_cast<std::int32_t>(tree_.feature.size());
    tree_.feature.push_back(-1);
    tree_.threshold.push_back(0);
    tree_.child.push_back(0);
    return id;
  }

  void node_totals(std::size_t begin, std::size_t end) {
    std::fill(total_.begin(), total_.end(), 0.0);
    const std::int32_t* order = rows_.order.data();  // feature 0's segment holds the node's rows
    for (std::size_t i = begin; i < end; ++i) {
      const std::int32_t r = order[i];
      total_[rows_.label[r]] += rows_.weight[r];
    }
    node_weight_ = 0;
    for (double t : total_) node_weight_ += t;
  }

  double node_impurity() const {
    if (growth_.criterion == SplitCriterion::kEntropy) return entropy(total_.data(), k_, node_weight_);
    double sq = 0;
    for (double t : total_) sq += t * t;
    return 1.0 - sq / (node_weight_ * node_weight_);
  }

  void make_leaf(std::int32_t node) {
    tree_.feature[node] = -1;
    tree_.child[node] = static_cast<std::int32_t>(tree_.proba.size() / static_cast<std::size_t>(k_));
    for (double t : total_) tree_.proba.push_back(t / node_weight_);
  }

  Best find_split(std::size_t begin, std::size_t end) {
    const std::size_t d = rows_.features;
    const std::size_t m = rows_.rows;
    std::iota(candidates_.begin(), candidates_.end(), 0);
    Best best;
    const std::size_t msl = static_cast<std::size_t>(growth_.min_samples_leaf);
    double total_sq = 0;
    for (double t : total_) total_sq += t * t;
    int evaluated = 0;
    for (std::size_t drawn = 0; drawn < d && evaluated < max_features_; ++drawn) {
      std::swap(candidates_[drawn], candidates_[drawn + uniform_below(rng_, d - drawn)]);
      const std::size_t f = candidates_[drawn];
      const double* v = rows_.value.data() + f * m;
      const std::int32_t* order = rows_.order.data() + f * m;
      if (v[end - 1] <= v[begin] + kFeatureThreshold) continue;  // constant in this node
      ++evaluated;
      std::fill(left_.begin(), left_.end(), 0.0);
      double w_left = 0;
      if (growth_.criterion == SplitCriterion::kGini) {
        // proxy = sum_k l_k^2 / w_l + sum_k r_k^2 / w_r, with r_k = t_k - l_k.
        double sq_left = 0, dot = 0;
        for (std::size_t i = begin; i + 1 < end; ++i) {
          const std::int32_t r = order[i];
          const int c = rows_.label[r];
          const double w = rows_.weight[r];
          sq_left += w * (2 * left_[c] + w);
          dot += total_[c] * w;
          left_[c] += w;
          w_left += w;
          if (v[i + 1] <= v[i] + kFeatureThreshold) continue;
          const std::size_t pos = i + 1;
          if (pos - begin < msl || end - pos < msl) continue;
          const double w_right = node_weight_ - w_left;
          const double sq_right = total_sq - 2 * dot + sq_left;
          const double proxy = sq_left / w_left + sq_right / w_right;
          if (proxy > best.proxy) set_best(best, static_cast<int>(f), pos, v[i], v[i + 1], proxy);
        }
      } else {
        for (std::size_t i = begin; i + 1 < end; ++i) {
          const std::int32_t r = order[i];
          left_[rows_.label[r]] += rows_.weight[r];
          w_left += rows_.weight[r];
          if (v[i + 1] <= v[i] + kFeatureThreshold) continue;
          const std::size_t pos = i + 1;
          if (pos - begin < msl || end - pos < msl) continue;
          const double w_right = node_weight_ - w_left;
          for (int c = 0; c < k_; ++c) right_[c] = total_[c] - left_[c];
          const double proxy =
              -w_left * entropy(left_.data(), k_, w_left) - w_right * entropy(right_.data(), k_, w_right);
          if (proxy > best.proxy) set_best(best, static_cast<int>(f), pos, v[i], v[i + 1], proxy);
        }
      }
    }
    return best;
  }

  static void set_best(Best& best, int f, std::size_t pos, double low, double high, double proxy) {
    best.feature = f;
    best.pos = pos;
    best.proxy = proxy;
    double t = low / 2.0 + high / 2.0;
    if (t == high || !std::isfinite(t)) t = low;
    best.threshold = t;
  }

  // Stable partition of every feature's segment by the chosen split.
  void partition(const Best& best, std::size_t begin, std::size_t end) {
    const std::size_t m = rows_.rows;
    const std::int32_t* chosen = rows_.order.data() + static_cast<std::size_t>(best.feature) * m;
    for (std::size_t i = begin; i < end; ++i) goes_left_[chosen[i]] = i < best.pos ? 1 : 0;
    for (std::size_t f = 0; f < rows_.features; ++f) {
      if (static_cast<int>(f) == best.feature) continue;
      double* v = rows_.value.data() + f * m;
      std::int32_t* order = rows_.order.data() + f * m;
      std::size_t l = begin, r = 0;
      for (std::size_t i = begin; i < end; ++i) {
        const std::int32_t row = order[i];
        if (goes_left_[row]) {
          v[l] = v[i];
          order[l] = row;
          ++l;
        } else {
          scratch_value_[r] = v[i];
          scratch_order_[r] = row;
          ++r;
        }
      }
      std::copy(scratch_value_.begin(), scratch_value_.begin() + static_cast<std::ptrdiff_t>(r), v + l);
      std::copy(scratch_order_.begin(), scratch_order_.begin() + static_cast<std::ptrdiff_t>(r), order + l);
    }
  }

  SortedRows& rows_;
  int k_;
  const TreeGrowth& growth_;
  std::mt19937_64& rng_;
  int max_features_ = 1;
  FlatTree tree_;
  std::vector<std::uint8_t> goes_left_;
  std::vector<double> scratch_value_;
  std::vector<std::int32_t> scratch_order_;
  std::vector<double> total_, left_, right_;
  double node_weight_ = 0;
  std::vector<std::size_t> candidates_;
};

}  // namespace

int TreeGrowth::features_per_node(std::size_t d) const {
  const double dd = static_cast<double>(d);
  int k = 0;
  if (max_features == "all" || max_features == "none") {
    k = static_cast<int>(d);
  } else if (max_features == "sqrt") {
    k = static_cast<int>(std::sqrt(dd));
  } else if (max_features == "log2") {
    k = static_cast<int>(std::log2(dd));
  } else {
    char* endp = nullptr;
    const double v = std::strtod(max_features.c_str(), &endp);
    if (max_features.empty() || *endp != '\0' || !(v > 0))
      throw ConfigError("max_features '" + max_features +
                        "': valid are all, sqrt, log2, an integer >= 1 or a fraction in (0, 1)");
    if (max_features.find('.') != std::string::npos && v < 1.0) {
      k = static_cast<int>(v * dd);  // scikit-learn: max(1, int(max_features * n_features))
    } else {
      if (v != std::floor(v)) throw ConfigError("max_features '" + max_features + "': a count must be an integer");
      k = static_cast<int>(v);
    }
  }
  return std::clamp(k, 1, std::max(1, static_cast<int>(d)));
}

std::vector<OptionDecl> tree_growth_declarations(const std::string& max_features_default) {
  return {
      OptionDecl::choice("criterion", "gini", {"gini", "entropy", "log_loss"},
                         "impurity: Gini or entropy (log_loss is scikit-learn's alias of entropy)"),
      OptionDecl::integer("max_depth", 0, 0, 10000, "maximum depth; 0 = unlimited (scikit-learn's None)"),
      OptionDecl::integer("min_samples_split", 2, 2, 1e9, "rows a node needs to be split"),
      OptionDecl::integer("min_samples_leaf", 1, 1, 1e9, "rows each child must keep"),
      OptionDecl::string("max_features", max_features_default,
                         "features tried per node: all | sqrt | log2 | a count (3) | a fraction (0.5)"),
  };
}

TreeGrowth tree_growth_from(const Options& options) {
  TreeGrowth g;
  g.criterion = options.get_string("criterion") == "gini" ? SplitCriterion::kGini : SplitCriterion::kEntropy;
  g.max_depth = static_cast<int>(options.get_int("max_depth"));
  g.min_samples_split = static_cast<int>(options.get_int("min_samples_split"));
  g.min_samples_leaf = static_cast<int>(options.get_int("min_samples_leaf"));
  g.max_features = options.get_string("max_features");
  g.features_per_node(12);  // validate the spelling at configuration time
  return g;
}

std::vector<double> class_weights(const std::string& mode, const std::vector<int>& labels, int num_classes) {
  std::vector<double> w(static_cast<std::size_t>(num_classes), 1.0);
  if (mode == "none") return w;
  if (mode != "balanced") throw ConfigError("class_weight '" + mode + "': valid are none, balanced");
  std::vector<double> count(w.size(), 0.0);
  for (int y : labels) count[static_cast<std::size_t>(y)] += 1;
  const double n = static_cast<double>(labels.size());
  for (std::size_t c = 0; c < w.size(); ++c) w[c] = count[c] > 0 ? n / (num_classes * count[c]) : 0.0;
  return w;
}

void check_classifier_input(const Matrix& x, const std::vector<int>& labels, int num_classes,
                            const std::string& method) {
  if (x.rows == 0) throw DataError(method + " fit: the training table has no rows");
  if (x.cols == 0) throw DataError(method + " fit: the training table has no feature columns");
  if (x.rows != labels.size())
    throw DataError(fmt::format("{} fit: {} rows but {} labels", method, x.rows, labels.size()));
  if (x.rows > static_cast<std::size_t>(INT32_MAX)) throw DataError(method + " fit: more than 2^31 rows");
  if (num_classes < 2)
    throw DataError(fmt::format("{} fit: {} classes declared; at least 2 are needed", method, num_classes));
  for (std::size_t r = 0; r < labels.size(); ++r) {
    if (labels[r] < 0 || labels[r] >= num_classes)
      throw DataError(fmt::format("{} fit: row {} has label {}, outside the declared classes 0..{}", method, r,
                                  labels[r], num_classes - 1));
  }
  for (std::size_t i = 0; i < x.data.size(); ++i) {
    if (!std::isfinite(x.data[i]))
      throw DataError(fmt::format("{} fit: non-finite value at row {}, column {}", method, i / x.cols, i % x.cols));
  }
}

void require_finite_rows(const Matrix& x, const std::string& method) {
  for (std::size_t i = 0; i < x.data.size(); ++i) {
    if (!std::isfinite(x.data[i]))
      throw DataError(fmt::format("{} predict: non-finite value at row {}, column {}", method, i / x.cols, i % x.cols));
  }
}

int FlatTree::depth() const {
  if (feature.empty()) return 0;
  std::vector<int> d(feature.size(), 0);
  int deepest = 0;
  for (std::size_t n = 0; n < feature.size(); ++n) {
    deepest = std::max(deepest, d[n]);
    if (feature[n] >= 0) d[child[n]] = d[child[n] + 1] = d[n] + 1;  // children follow their parent
  }
  return deepest;
}

std::size_t FlatTree::size_bytes() const {
  return feature.size() * sizeof(std::int32_t) + threshold.size() * sizeof(double) +
         child.size() * sizeof(std::int32_t) + proba.size() * sizeof(double);
}

std::vector<std::int32_t> presort_columns(const Matrix& x) {
  std::vector<std::int32_t> out(x.rows * x.cols);
  std::vector<std::int32_t> idx(x.rows);
  for (std::size_t f = 0; f < x.cols; ++f) {
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](std::int32_t a, std::int32_t b) {
      const double va = x(static_cast<std::size_t>(a), f), vb = x(static_cast<std::size_t>(b), f);
      return va < vb || (va == vb && a < b);
    });
    std::copy(idx.begin(), idx.end(), out.begin() + static_cast<std::ptrdiff_t>(f * x.rows));
  }
  return out;
}

SortedRows select_rows(const Matrix& x, const std::vector<int>& labels, const std::vector<double>& weight,
                       const std::vector<std::int32_t>& presorted) {
  SortedRows s;
  s.features = x.cols;
  std::vector<std::int32_t> local(x.rows, -1);
  for (std::size_t r = 0; r < x.rows; ++r) {
    if (weight[r] > 0) {
      local[r] = static_cast<std::int32_t>(s.rows++);
      s.label.push_back(labels[r]);
      s.weight.push_back(weight[r]);
    }
  }
  s.value.resize(s.rows * s.features);
  s.order.resize(s.rows * s.features);
  for (std::size_t f = 0; f < x.cols; ++f) {
    const std::int32_t* src = presorted.data() + f * x.rows;
    double* v = s.value.data() + f * s.rows;
    std::int32_t* o = s.order.data() + f * s.rows;
    std::size_t j = 0;
    for (std::size_t i = 0; i < x.rows; ++i) {
      const std::int32_t r = src[i];
      if (local[r] < 0) continue;
      v[j] = x(static_cast<std::size_t>(r), f);
      o[j] = local[r];
      ++j;
    }
  }
  return s;
}

FlatTree grow_cart(SortedRows& rows, int num_classes, const TreeGrowth& growth, std::mt19937_64& rng) {
  if (rows.rows == 0) throw DataError("tree fit: no rows with a non-zero weight");
  return Builder(rows, num_classes, growth, rng).build();
}

std::vector<OptionDecl> DecisionTreeOptions::declarations() {
  auto decls = tree_growth_declarations("all");
  decls.push_back(OptionDecl::choice("class_weight", "none", {"none", "balanced"},
                                     "row weights per class: none, or balanced = n / (classes * count)"));
  return decls;
}

DecisionTreeOptions DecisionTreeOptions::from(const Options& options) {
  DecisionTreeOptions o;
  o.growth = tree_growth_from(options);
  o.class_weight = options.get_string("class_weight");
  return o;
}

DecisionTree::DecisionTree(DecisionTreeOptions options) : options_(std::move(options)) {}

void DecisionTree::fit(const Table& train, const std::vector<int>& labels, int num_classes, const Context& ctx) {
  fit_matrix(train.to_matrix(), labels, num_classes, ctx);
}

Matrix DecisionTree::predict_proba(const Table& rows, const Context& ctx) const {
  return predict_proba_matrix(rows.to_matrix(), ctx);
}

void DecisionTree::fit_matrix(const Matrix& x, const std::vector<int>& labels, int num_classes, const Context& ctx) {
  check_classifier_input(x, labels, num_classes, "tree");
  const auto cw = class_weights(options_.class_weight, labels, num_classes);
  std::vector<double> weight(x.rows);
  for (std::size_t r = 0; r < x.rows; ++r) weight[r] = cw[static_cast<std::size_t>(labels[r])];
  SortedRows rows = select_rows(x, labels, weight, presort_columns(x));
  std::mt19937_64 rng = ctx.rng(0x7eeULL);
  tree_ = grow_cart(rows, num_classes, options_.growth, rng);
  num_features_ = x.cols;
}

Matrix DecisionTree::predict_proba_matrix(const Matrix& x, const Context& ctx) const {
  if (tree_.feature.empty()) throw ModelError("tree: predict_proba() called before fit()");
  if (x.cols != num_features_)
    throw DataError(
        fmt::format("tree predict: {} feature columns, but the model was fitted on {}", x.cols, num_features_));
  require_finite_rows(x, "tree");
  const auto k = static_cast<std::size_t>(tree_.classes);
  Matrix out(x.rows, k);
  constexpr std::size_t kBlock = 4096;
  detail::parallel_blocks((x.rows + kBlock - 1) / kBlock, ctx.threads, [&](std::size_t b) {
    const std::size_t end = std::min(x.rows, (b + 1) * kBlock);
    for (std::size_t r = b * kBlock; r < end; ++r) {
      const double* p = tree_.leaf(x.row(r));
      std::copy(p, p + k, out.row(r));
    }
  });
  return out;
}

std::map<std::string, std::string> DecisionTree::diagnostic_info() const {
  return {{"tree.nodes", std::to_string(tree_.num_nodes())},
          {"tree.leaves", std::to_string(tree_.num_leaves())},
          {"tree.depth", std::to_string(tree_.depth())}};
}

}  // namespace opsbench
