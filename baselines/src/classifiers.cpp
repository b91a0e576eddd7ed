// Registration of the supervised classifiers (see methods.h).
#include <memory>

#include "methods.h"
#include "opsbench/baselines/decision_tree.h"
#include "opsbench/baselines/logistic_regression.h"
#include "opsbench/baselines/random_forest.h"
#include "opsbench/baselines/xgboost_classifier.h"

namespace opsbench {

void add_classifiers(Registry& registry) {
  MethodEntry logreg;
  logreg.name = "logreg";
  logreg.kind = MethodKind::kClassifier;
  logreg.description = "multinomial logistic regression, L2 penalty (C), L-BFGS to a gradient tolerance";
  logreg.reference = "scikit-learn 1.2.1 LogisticRegression(multi_class='multinomial', solver='lbfgs')";
  logreg.options = LogisticRegressionOptions::declarations();
  logreg.make_classifier = [](const Options& options) -> std::unique_ptr<Classifier> {
    return std::make_unique<LogisticRegression>(LogisticRegressionOptions::from(options));
  };
  registry.add(std::move(logreg));

  MethodEntry tree;
  tree.name = "tree";
  tree.kind = MethodKind::kClassifier;
  tree.description = "CART decision tree (gini/entropy), exact best splits on sorted features";
  tree.reference = "Breiman et al. 1984; behaviour of scikit-learn 1.2.1 DecisionTreeClassifier";
  tree.options = DecisionTreeOptions::declarations();
  tree.make_classifier = [](const Options& options) -> std::unique_ptr<Classifier> {
    return std::make_unique<DecisionTree>(DecisionTreeOptions::from(options));
  };
  registry.add(std::move(tree));

  MethodEntry forest;
  forest.name = "forest";
  forest.kind = MethodKind::kClassifier;
  forest.description = "random forest of CART trees on bootstrap draws, sqrt(d) features per node";
  forest.reference = "Breiman. Random Forests. Machine Learning 2001; scikit-learn 1.2.1 RandomForestClassifier";
  forest.options = RandomForestOptions::declarations();
  forest.make_classifier = [](const Options& options) -> std::unique_ptr<Classifier> {
    return std::make_unique<RandomForest>(RandomForestOptions::from(options));
  };
  registry.add(std::move(forest));

  MethodEntry xgb;
  xgb.name = "xgboost";
  xgb.kind = MethodKind::kClassifier;
  xgb.description = "gradient-boosted trees through XGBoost's C API (libxgboost), hist by default";
  xgb.reference = "Chen and Guestrin. XGBoost. KDD 2016; Debian libxgboost " + xgboost_version();
  xgb.options = XgboostOptions::declarations();
  xgb.make_classifier = [](const Options& options) -> std::unique_ptr<Classifier> {
    return std::make_unique<XgboostClassifier>(XgboostOptions::from(options));
  };
  registry.add(std::move(xgb));
}

}  // namespace opsbench
