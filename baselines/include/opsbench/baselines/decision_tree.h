// CART decision tree classifier with the semantics of scikit-learn 1.2.1's
// sklearn.tree.DecisionTreeClassifier (criterion gini / entropy, best splitter).
//
// Growth (depth first, as scikit-learn's DepthFirstTreeBuilder): a node becomes a leaf when it is
// at max_depth, holds fewer than min_samples_split rows or fewer than 2 * min_samples_leaf rows, or
// its impurity is <= DBL_EPSILON. Otherwise features are drawn without replacement in a random
// order until max_features non-constant features have been evaluated (a feature is constant in the
// node when max <= min + 1e-7; constant features do not count, as in scikit-learn). For each, every
// boundary between consecutive distinct sorted values (values closer than 1e-7 are not separated)
// leaving at least min_samples_leaf rows on both sides is a candidate; the candidate with the
// largest impurity decrease wins (the first one in draw order on ties). The threshold is the
// midpoint of the two values (the lower value when the midpoint rounds up to the upper one); rows
// with x <= threshold go left. A node with no valid candidate is a leaf.
//
// Weights: every training row carries a weight (class weight x bootstrap count for a forest);
// impurities use weighted class totals, the row-count rules (min_samples_*) count distinct rows
// with a non-zero weight, as scikit-learn's n_node_samples does. predict_proba returns the
// weighted class shares of the leaf reached.
//
// Differences from scikit-learn: values are compared in float64 (scikit-learn casts X to
// float32), and the random order of features differs, so with max_features < d (or with ties
// between features) individual trees differ while their quality agrees.
//
// Determinism: all randomness comes from the engine passed to fit (seeded from ctx.seed); the
// tree is built on one thread. Storage is one flat struct-of-arrays; children are allocated in
// pairs (right = left + 1). model_size_bytes() is the size of the node and leaf arrays.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "opsbench/core/method.h"
#include "opsbench/core/options.h"

namespace opsbench {

enum class SplitCriterion { kGini, kEntropy };

// Growth parameters shared by `tree` and `forest`.
struct TreeGrowth {
  SplitCriterion criterion = SplitCriterion::kGini;
  int max_depth = 0;  // 0 = unlimited
  int min_samples_split = 2;
  int min_samples_leaf = 1;
  // "all", "sqrt", "log2", an integer count ("3") or a fraction in (0, 1) ("0.5"), as
  // scikit-learn's None / "sqrt" / "log2" / int / float.
  std::string max_features = "all";

  // Features evaluated per node for d columns (>= 1). ConfigError on a malformed value.
  int features_per_node(std::size_t d) const;
};

// Declarations of the growth options (criterion, max_depth, min_samples_split, min_samples_leaf,
// max_features with the given default), and their reading back.
std::vector<OptionDecl> tree_growth_declarations(const std::string& max_features_default);
TreeGrowth tree_growth_from(const Options& options);

// Per-class weights: "none" (1 each) or "balanced" (n / (K * count_k), scikit-learn's rule; a class
// absent from `labels` gets weight 0).
std::vector<double> class_weights(const std::string& mode, const std::vector<int>& labels, int num_classes);

// Checks the inputs every classifier shares: matrix rows == labels, at least one row and column,
// finite values, 2 <= num_classes, labels in [0, num_classes). DataError naming `method` otherwise.
void check_classifier_input(const Matrix& x, const std::vector<int>& labels, int num_classes,
                            const std::string& method);

// DataError naming the first non-finite value of rows to be predicted.
void require_finite_rows(const Matrix& x, const std::string& method);

// A fitted tree in flat arrays. Internal node: feature >= 0, go to child + (x[feature] >
// threshold). Leaf: feature = -1, child = leaf slot, its class shares at proba[slot * classes].
struct FlatTree {
  int classes = 0;
  std::vector<std::int32_t> feature;
  std::vector<double> threshold;
  std::vector<std::int32_t> child;
  std::vector<double> proba;

  const double* leaf(const double* row) const {
    std::int32_t node = 0;
    while (feature[node] >= 0) node = child[node] + (row[feature[node]] > threshold[node]);
    return proba.data() + static_cast<std::size_t>(child[node]) * static_cast<std::size_t>(classes);
  }
  std::size_t num_nodes() const { return feature.size(); }
  std::size_t num_leaves() const { return proba.size() / static_cast<std::size_t>(classes); }
  int depth() const;
  std::size_t size_bytes() const;
};

// Training rows of one tree, pre-sorted per feature (column-major). Built once per tree; the
// forest builds it from a presort shared by all its trees.
struct SortedRows {
  std::size_t rows = 0;      // distinct rows with non-zero weight
  std::size_t features = 0;
  std::vector<std::int32_t> label;  // per local row
  std::vector<double> weight;       // per local row, > 0
  std::vector<double> value;        // features x rows: feature f's values in ascending order
  std::vector<std::int32_t> order;  // features x rows: the local row of each value
};

// Presort of a whole matrix: for each feature, the row indices in ascending (value, row) order.
std::vector<std::int32_t> presort_columns(const Matrix& x);

// SortedRows for the rows with weight[r] > 0 (local ids in ascending row order), from the presort.
SortedRows select_rows(const Matrix& x, const std::vector<int>& labels, const std::vector<double>& weight,
                       const std::vector<std::int32_t>& presorted);

// Grows one tree. `rows` is consumed (its order arrays are partitioned in place).
FlatTree grow_cart(SortedRows& rows, int num_classes, const TreeGrowth& growth, std::mt19937_64& rng);

struct DecisionTreeOptions {
  TreeGrowth growth;
  std::string class_weight = "none";  // none | balanced

  static std::vector<OptionDecl> declarations();
  static DecisionTreeOptions from(const Options& options);
};

class DecisionTree : public Classifier {
 public:
  explicit DecisionTree(DecisionTreeOptions options = {});

  void fit(const Table& train, const std::vector<int>& labels, int num_classes, const Context& ctx) override;
  Matrix predict_proba(const Table& rows, const Context& ctx) const override;
  std::size_t model_size_bytes() const override { return tree_.size_bytes(); }
  std::map<std::string, std::string> diagnostic_info() const override;

  void fit_matrix(const Matrix& x, const std::vector<int>& labels, int num_classes, const Context& ctx);
  Matrix predict_proba_matrix(const Matrix& x, const Context& ctx) const;
  const FlatTree& tree() const { return tree_; }

 private:
  DecisionTreeOptions options_;
  std::size_t num_features_ = 0;
  FlatTree tree_;
};

}  // namespace opsbench
