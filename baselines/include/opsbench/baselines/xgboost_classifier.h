// Gradient-boosted trees through XGBoost's C API (Debian's libxgboost, 1.7.x): not a
// re-implementation. The options map one to one onto XGBoost's parameters (names as in the Python
// package's XGBClassifier), tree_method is "hist" by default, and threads and seed come from the
// Context (nthread = ctx.threads, seed = ctx.seed mod 2^31), so loading libtorch, which sets
// OpenMP to one thread for the process, does not change how many threads XGBoost uses.
//
// Objective: binary:logistic for two classes (predict_proba = [1 - p, p]), multi:softprob with
// num_class = K otherwise. class_weight=balanced passes n / (K * count_k) as per-row weights.
//
// The training DMatrix is built from the Table's dense float64 matrix through its
// __array_interface__ (XGDMatrixCreateFromDense): XGBoost reads the doubles where they are and
// quantises them into its own histogram format, as the Python package does with a numpy array.
// Prediction uses in-place prediction (XGBoosterPredictFromDense), also without copying.
//
// Errors: every C call goes through one checking function that turns a non-zero return and
// XGBGetLastError() into a ModelError naming the call; handles are owned by RAII types and freed on
// every path. model_size_bytes() is the size of the booster saved as UBJSON.
//
// Determinism: for a seed and a thread count, XGBoost's hist method gives identical models; its
// histogram sums are split by thread, so different thread counts may differ in the last bits
// (docs/classifiers.md records what was measured).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "opsbench/core/method.h"
#include "opsbench/core/options.h"

namespace opsbench {

struct XgboostOptions {
  int n_estimators = 100;
  int max_depth = 6;
  double learning_rate = 0.3;
  double subsample = 1.0;
  double colsample_bytree = 1.0;
  double min_child_weight = 1.0;
  double gamma = 0.0;
  double reg_lambda = 1.0;
  double reg_alpha = 0.0;
  int max_bin = 256;
  std::string tree_method = "hist";
  std::string class_weight = "none";

  static std::vector<OptionDecl> declarations();
  static XgboostOptions from(const Options& options);
};

// "major.minor.patch" of the linked libxgboost.
std::string xgboost_version();

class XgboostClassifier : public Classifier {
 public:
  explicit XgboostClassifier(XgboostOptions options = {});
  ~XgboostClassifier() override;
  XgboostClassifier(const XgboostClassifier&) = delete;
  XgboostClassifier& operator=(const XgboostClassifier&) = delete;

  void fit(const Table& train, const std::vector<int>& labels, int num_classes, const Context& ctx) override;
  Matrix predict_proba(const Table& rows, const Context& ctx) const override;
  std::size_t model_size_bytes() const override;
  std::map<std::string, std::string> diagnostic_info() const override;

  void fit_matrix(const Matrix& x, const std::vector<int>& labels, int num_classes, const Context& ctx);
  Matrix predict_proba_matrix(const Matrix& x, const Context& ctx) const;

 private:
  struct Booster;  // owns the BoosterHandle; keeps <xgboost/c_api.h> out of this header
  XgboostOptions options_;
  int classes_ = 0;
  std::size_t num_features_ = 0;
  std::unique_ptr<Booster> booster_;
};

}  // namespace opsbench
