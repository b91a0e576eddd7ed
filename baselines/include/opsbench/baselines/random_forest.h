// Random forest classifier of CART trees (decision_tree.h), behaving like scikit-learn 1.2.1's
// sklearn.ensemble.RandomForestClassifier.
//
// Fit: tree t draws n rows with replacement (bootstrap=true; false uses every row once); rows drawn
// c times get weight c x class weight, rows never drawn are out of bag, as scikit-learn passes
// bootstrap counts as sample weights. Each tree is grown with the growth options (max_features
// "sqrt" by default). class_weight: none | balanced (weights from the whole training set) |
// balanced_subsample (from each tree's bootstrap draw, duplicates counted), as scikit-learn.
// predict_proba is the mean of the trees' leaf class shares.
//
// Out-of-bag score (oob_score=true): accuracy of the argmax of the summed probabilities of the
// trees for which a row was out of bag, over rows out of bag in at least one tree; stored as the
// figure "forest.oob_accuracy".
//
// Determinism: tree t draws from its own engine seeded from (ctx.seed, t); trees are grown on
// ctx.threads threads but each writes only its own slot, and probabilities are summed in tree order
// for every row, so a seed gives the same forest and the same probabilities for any thread count.
// The features are sorted once per fit and shared by all trees.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "opsbench/baselines/decision_tree.h"
#include "opsbench/core/method.h"
#include "opsbench/core/options.h"

namespace opsbench {

struct RandomForestOptions {
  int n_estimators = 100;
  TreeGrowth growth = [] {
    TreeGrowth g;
    g.max_features = "sqrt";
    return g;
  }();
  bool bootstrap = true;
  std::string class_weight = "none";  // none | balanced | balanced_subsample
  bool oob_score = false;

  static std::vector<OptionDecl> declarations();
  static RandomForestOptions from(const Options& options);
};

class RandomForest : public Classifier {
 public:
  explicit RandomForest(RandomForestOptions options = {});

  void fit(const Table& train, const std::vector<int>& labels, int num_classes, const Context& ctx) override;
  Matrix predict_proba(const Table& rows, const Context& ctx) const override;
  std::size_t model_size_bytes() const override;
  std::vector<Figure> diagnostics() const override;
  std::map<std::string, std::string> diagnostic_info() const override;

  void fit_matrix(const Matrix& x, const std::vector<int>& labels, int num_classes, const Context& ctx);
  Matrix predict_proba_matrix(const Matrix& x, const Context& ctx) const;
  const std::vector<FlatTree>& trees() const { return trees_; }
  std::optional<double> oob_accuracy() const { return oob_accuracy_; }

 private:
  RandomForestOptions options_;
  int classes_ = 0;
  std::size_t num_features_ = 0;
  std::vector<FlatTree> trees_;
  std::optional<double> oob_accuracy_;
};

}  // namespace opsbench
