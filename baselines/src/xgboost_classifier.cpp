// XGBoost through its C API: see the header.
#include "opsbench/baselines/xgboost_classifier.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "opsbench/baselines/decision_tree.h"  // check_classifier_input, class_weights
#include "opsbench/core/error.h"

namespace opsbench {
namespace {

// The one place a C call's status is read: non-zero becomes a ModelError with XGBoost's message.
void check(int status, const char* call) {
  if (status == 0) return;
  std::string message = XGBGetLastError();
  // The library appends a native stack trace: keep the message, drop the addresses.
  const auto trace = message.find("Stack trace:");
  if (trace != std::string::npos) message.erase(trace);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  throw ModelError(fmt::format("xgboost: {} failed: {}", call, message));
}
#define OPSBENCH_XGB(call) check((call), #call)

class DMatrix {
 public:
  DMatrix() = default;
  ~DMatrix() {
    if (handle_) XGDMatrixFree(handle_);
  }
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  DMatrixHandle* out() { return &handle_; }
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

// numpy's __array_interface__ for a C-contiguous float64 matrix, pointing at the data in place.
std::string array_interface(const Matrix& x) {
  return fmt::format(R"({{"data": [{}, true], "shape": [{}, {}], "typestr": "<f8", "version": 3}})",
                     reinterpret_cast<std::uintptr_t>(x.data.data()), x.rows, x.cols);
}

}  // namespace

struct XgboostClassifier::Booster {
  BoosterHandle handle = nullptr;
  ~Booster() {
    if (handle) XGBoosterFree(handle);
  }
};

std::string xgboost_version() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return fmt::format("{}.{}.{}", major, minor, patch);
}

std::vector<OptionDecl> XgboostOptions::declarations() {
  return {
      OptionDecl::integer("n_estimators", 100, 1, 100000, "boosting rounds"),
      OptionDecl::integer("max_depth", 6, 0, 1000, "maximum tree depth (0 = no limit, with grow_policy depthwise)"),
      OptionDecl::real("learning_rate", 0.3, 0.0, 1.0, "shrinkage (eta)"),
      OptionDecl::real("subsample", 1.0, 1e-6, 1.0, "row subsample ratio per round"),
      OptionDecl::real("colsample_bytree", 1.0, 1e-6, 1.0, "column subsample ratio per tree"),
      OptionDecl::real("min_child_weight", 1.0, 0.0, 1e12, "minimum hessian sum in a child"),
      OptionDecl::real("gamma", 0.0, 0.0, 1e12, "minimum loss reduction to split"),
      OptionDecl::real("reg_lambda", 1.0, 0.0, 1e12, "L2 regularisation of leaf weights"),
      OptionDecl::real("reg_alpha", 0.0, 0.0, 1e12, "L1 regularisation of leaf weights"),
      OptionDecl::integer("max_bin", 256, 2, 65536, "histogram bins per feature (hist)"),
      OptionDecl::choice("tree_method", "hist", {"hist", "approx", "exact"}, "XGBoost's tree construction"),
      OptionDecl::choice("class_weight", "none", {"none", "balanced"},
                         "per-row weights: none, or balanced = n / (classes * count)"),
  };
}

XgboostOptions XgboostOptions::from(const Options& options) {
  XgboostOptions o;
  o.n_estimators = static_cast<int>(options.get_int("n_estimators"));
  o.max_depth = static_cast<int>(options.get_int("max_depth"));
  o.learning_rate = options.get_double("learning_rate");
  o.subsample = options.get_double("subsample");
  o.colsample_bytree = options.get_double("colsample_bytree");
  o.min_child_weight = options.get_double("min_child_weight");
  o.gamma = options.get_double("gamma");
  o.reg_lambda = options.get_double("reg_lambda");
  o.reg_alpha = options.get_double("reg_alpha");
  o.max_bin = static_cast<int>(options.get_int("max_bin"));
  o.tree_method = options.get_string("tree_method");
  o.class_weight = options.get_string("class_weight");
  return o;
}

XgboostClassifier::XgboostClassifier(XgboostOptions options) : options_(std::move(options)) {}
XgboostClassifier::~XgboostClassifier() = default;

void XgboostClassifier::fit(const Table& train, const std::vector<int>& labels, int num_classes,
                            const Context& ctx) {
  fit_matrix(train.to_matrix(), labels, num_classes, ctx);
}

Matrix XgboostClassifier::predict_proba(const Table& rows, const Context& ctx) const {
  return predict_proba_matrix(rows.to_matrix(), ctx);
}

void XgboostClassifier::fit_matrix(const Matrix& x, const std::vector<int>& labels, int num_classes,
                                   const Context& ctx) {
  check_classifier_input(x, labels, num_classes, "xgboost");
  const std::string threads = std::to_string(std::max(1, ctx.threads));
  DMatrix train;
  OPSBENCH_XGB(XGDMatrixCreateFromDense(array_interface(x).c_str(),
                                        fmt::format(R"({{"missing": NaN, "nthread": {}}})", threads).c_str(),
                                        train.out()));
  std::vector<float> y(labels.begin(), labels.end());
  OPSBENCH_XGB(XGDMatrixSetFloatInfo(train.get(), "label", y.data(), y.size()));
  if (options_.class_weight == "balanced") {
    const auto cw = class_weights("balanced", labels, num_classes);
    std::vector<float> w(labels.size());
    for (std::size_t r = 0; r < w.size(); ++r) w[r] = static_cast<float>(cw[static_cast<std::size_t>(labels[r])]);
    OPSBENCH_XGB(XGDMatrixSetFloatInfo(train.get(), "weight", w.data(), w.size()));
  }

  auto booster = std::make_unique<Booster>();
  const DMatrixHandle cache[] = {train.get()};
  OPSBENCH_XGB(XGBoosterCreate(cache, 1, &booster->handle));
  const bool binary = num_classes == 2;
  const std::vector<std::pair<std::string, std::string>> params = {
      {"objective", binary ? "binary:logistic" : "multi:softprob"},
      {"num_class", binary ? "1" : std::to_string(num_classes)},
      {"tree_method", options_.tree_method},
      {"max_depth", std::to_string(options_.max_depth)},
      {"eta", format_double(options_.learning_rate)},
      {"subsample", format_double(options_.subsample)},
      {"colsample_bytree", format_double(options_.colsample_bytree)},
      {"min_child_weight", format_double(options_.min_child_weight)},
      {"gamma", format_double(options_.gamma)},
      {"lambda", format_double(options_.reg_lambda)},
      {"alpha", format_double(options_.reg_alpha)},
      {"max_bin", std::to_string(options_.max_bin)},
      {"nthread", threads},
      {"seed", std::to_string(ctx.seed % 2147483648ULL)},
      {"verbosity", "0"},
  };
  for (const auto& [key, value] : params) {
    if (binary && key == "num_class") continue;
    OPSBENCH_XGB(XGBoosterSetParam(booster->handle, key.c_str(), value.c_str()));
  }
  for (int round = 0; round < options_.n_estimators; ++round)
    OPSBENCH_XGB(XGBoosterUpdateOneIter(booster->handle, round, train.get()));
  booster_ = std::move(booster);
  classes_ = num_classes;
  num_features_ = x.cols;
}

Matrix XgboostClassifier::predict_proba_matrix(const Matrix& x, const Context& ctx) const {
  if (!booster_) throw ModelError("xgboost: predict_proba() called before fit()");
  if (x.cols != num_features_)
    throw DataError(fmt::format("xgboost predict: {} feature columns, but the model was fitted on {}", x.cols,
                                num_features_));
  const auto k = static_cast<std::size_t>(classes_);
  Matrix out(x.rows, k);
  if (x.rows == 0) return out;
  OPSBENCH_XGB(XGBoosterSetParam(booster_->handle, "nthread", std::to_string(std::max(1, ctx.threads)).c_str()));
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  const char* config =
      R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false, "cache_id": 0, "missing": NaN})";
  OPSBENCH_XGB(XGBoosterPredictFromDense(booster_->handle, array_interface(x).c_str(), config, nullptr, &shape, &dim,
                                         &result));
  bst_ulong total = 1;
  for (bst_ulong i = 0; i < dim; ++i) total *= shape[i];
  const std::size_t expected = k == 2 ? x.rows : x.rows * k;
  if (total != expected)
    throw ModelError(fmt::format("xgboost predict: {} values returned for {} rows x {} classes", total, x.rows, k));
  for (std::size_t r = 0; r < x.rows; ++r) {
    if (k == 2) {
      const double p = result[r];
      out(r, 0) = 1.0 - p;
      out(r, 1) = p;
    } else {
      double sum = 0;
      for (std::size_t c = 0; c < k; ++c) sum += (out(r, c) = result[r * k + c]);
      for (std::size_t c = 0; c < k; ++c) out(r, c) /= sum;  // float32 softmax: renormalise in double
    }
  }
  return out;
}

std::size_t XgboostClassifier::model_size_bytes() const {
  if (!booster_) return 0;
  bst_ulong length = 0;
  const char* bytes = nullptr;
  OPSBENCH_XGB(XGBoosterSaveModelToBuffer(booster_->handle, R"({"format": "ubj"})", &length, &bytes));
  return static_cast<std::size_t>(length);
}

std::map<std::string, std::string> XgboostClassifier::diagnostic_info() const {
  return {{"xgboost.version", xgboost_version()}};
}

#undef OPSBENCH_XGB

}  // namespace opsbench
