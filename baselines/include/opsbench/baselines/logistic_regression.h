// Multinomial logistic regression with an L2 penalty, fitted by L-BFGS, following scikit-learn
// 1.2.1's LogisticRegression(multi_class="multinomial", solver="lbfgs").
//
// Model: p(k | x) = softmax_k(w_k . x + b_k) with one weight vector per class for K >= 3; for two
// classes one vector (class 0's logit fixed at 0), as scikit-learn's binary model, since two
// penalised softmax vectors would halve the effective penalty. The objective minimised is scikit-learn's, divided by the total row weight S:
//     (1/S) sum_i s_i * (-log p(y_i | x_i))  +  1 / (2 C S) * sum_k ||w_k||^2
// with s_i the class weight of row i (none | balanced); intercepts are not penalised.
//
// Solver: L-BFGS with 10 correction pairs and a backtracking Armijo line search; stops when the
// largest absolute gradient entry is <= tol (scipy's pgtol, which scikit-learn passes tol to), or
// when an iteration lowers the loss by a relative 1e7 * DBL_EPSILON or less (scipy's default factr,
// also reported as converged by scikit-learn), or after max_iter iterations. Whether it converged and the iterations run are reported in
// diagnostic_info ("logreg.converged", "logreg.iterations"), as scikit-learn's ConvergenceWarning
// would say. Features are used as given: scale them in the suite's preprocessing when their ranges
// differ much (L-BFGS converges slowly otherwise, as in scikit-learn).
//
// Determinism: the gradient is summed over fixed row blocks in block order, so results do not
// depend on ctx.threads; there is no randomness.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "opsbench/core/method.h"
#include "opsbench/core/options.h"

namespace opsbench {

struct LogisticRegressionOptions {
  double c = 1.0;
  double tol = 1e-4;
  int max_iter = 100;
  std::string class_weight = "none";  // none | balanced

  static std::vector<OptionDecl> declarations();
  static LogisticRegressionOptions from(const Options& options);
};

class LogisticRegression : public Classifier {
 public:
  explicit LogisticRegression(LogisticRegressionOptions options = {});

  void fit(const Table& train, const std::vector<int>& labels, int num_classes, const Context& ctx) override;
  Matrix predict_proba(const Table& rows, const Context& ctx) const override;
  std::size_t model_size_bytes() const override { return coef_.size() * sizeof(double); }
  std::map<std::string, std::string> diagnostic_info() const override;

  void fit_matrix(const Matrix& x, const std::vector<int>& labels, int num_classes, const Context& ctx);
  Matrix predict_proba_matrix(const Matrix& x, const Context& ctx) const;

  // Row-major, (d + 1) per row: a class's weights then its intercept; K rows, or one row (class 1)
  // for two classes.
  const std::vector<double>& coefficients() const { return coef_; }
  bool converged() const { return converged_; }
  int iterations() const { return iterations_; }

 private:
  LogisticRegressionOptions options_;
  int classes_ = 0;
  std::size_t num_features_ = 0;
  std::vector<double> coef_;
  bool converged_ = false;
  int iterations_ = 0;
  double final_loss_ = 0;
};

}  // namespace opsbench
