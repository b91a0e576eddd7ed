// IsolationForest (Liu, Ting and Zhou, ICDM 2008), behaving like scikit-learn 1.2.1's
// sklearn.ensemble.IsolationForest.
//
// Fit: each of n_estimators trees is grown on psi = min(max_samples, n) training rows drawn without
// replacement (with replacement when bootstrap=true; duplicate draws then collapse into one row, as
// scikit-learn's weighted fit counts unique rows in n_node_samples) and on
// max(1, floor(max_features * d)) columns drawn without replacement. Trees grow to height
// ceil(log2(max(psi, 2))). At a node, a feature is drawn uniformly among the features whose values in
// the node are not constant (scikit-learn's random splitter redraws when the drawn feature is
// constant, with the same 1e-7 tolerance, which gives exactly this distribution); the threshold is
// uniform in [min, max) of that feature in the node, rows with value <= threshold go left. A node
// becomes a leaf when it holds fewer than 2 rows, reaches the height limit, or every feature is
// constant in it (duplicate rows).
//
// Score: for row x, h_t(x) = depth of the leaf reached + c(n_leaf) where n_leaf is the number of
// training rows in the leaf and c(n) = 2 H(n-1) - 2 (n-1)/n, H(i) = ln(i) + 0.5772156649015329
// (numpy.euler_gamma), c(2) = 1, c(1) = c(0) = 0 (scikit-learn's _average_path_length).
// score(x) = 2^(-mean_t h_t(x) / c(psi)), in (0, 1], higher = more anomalous; this is the
// NEGATION of scikit-learn's score_samples(). When c(psi) = 0 (a single training row) every score
// is 0.5, as in scikit-learn.
//
// Differences from scikit-learn: values are compared in float64 (scikit-learn casts X to float32),
// and the random streams differ, so individual trees differ while the score distribution agrees.
//
// Determinism: tree t draws from its own engine seeded from (ctx.seed, t), and each row's score sums
// the trees in index order, so results are identical for any ctx.threads.
//
// Storage: all trees live in one flat struct-of-arrays (feature, threshold, left child, leaf path
// length). Children are allocated in pairs, so the right child is left + 1. A leaf loops to itself
// (left = its own index, threshold = +inf, feature 0), so scoring walks every row exactly
// depth(tree) steps without a leaf test and several rows advance together (the loads of
// independent rows overlap). Rows are scored in blocks against every tree in turn, so a block
// stays in cache. model_size_bytes() is the byte size of the node arrays plus the per-tree root
// offsets and depths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "opsbench/core/method.h"
#include "opsbench/core/options.h"

namespace opsbench {

struct IsolationForestOptions {
  int n_estimators = 100;
  std::int64_t max_samples = 256;  // >= 2, capped at the number of training rows
  double max_features = 1.0;       // fraction of columns per tree, in (0, 1]
  bool bootstrap = false;

  // The declarations registered for method "iforest".
  static std::vector<OptionDecl> declarations();
  // From resolved options (see declarations()).
  static IsolationForestOptions from(const Options& options);
};

// c(n) of scikit-learn's _average_path_length: the mean path length of an unsuccessful search in a
// binary search tree of n keys.
double iforest_average_path_length(double n);

class IsolationForest : public Detector {
 public:
  explicit IsolationForest(IsolationForestOptions options = {});

  void fit(const Table& train, const Context& ctx) override;
  std::vector<double> score(const Table& rows, const Context& ctx) const override;
  std::size_t model_size_bytes() const override;

  // The same on a matrix (rows x the training column count).
  void fit_matrix(const Matrix& x, const Context& ctx);
  std::vector<double> score_matrix(const Matrix& x, const Context& ctx) const;

  const IsolationForestOptions& options() const { return options_; }
  std::int64_t psi() const { return psi_; }
  std::size_t num_nodes() const { return feature_.size(); }

 private:
  IsolationForestOptions options_;
  std::size_t num_features_ = 0;
  std::int64_t psi_ = 0;
  // Flat node arrays over all trees. A node sends x to left_ when x[feature] <= threshold, else to
  // left_ + 1; a leaf has left_ = itself and threshold +inf, and its path length (depth +
  // c(n_leaf)) in leaf_path_.
  std::vector<std::int32_t> feature_;
  std::vector<double> threshold_;
  std::vector<std::int32_t> left_;
  std::vector<double> leaf_path_;
  std::vector<std::int32_t> roots_;   // root node index of each tree
  std::vector<std::int32_t> depths_;  // depth of each tree's deepest leaf
};

}  // namespace opsbench
