// mlp: a fully connected classifier in libtorch (registered by add_neural_classifiers, see
// methods.h). Built only with libtorch: register_models() calls add_neural_classifiers under the
// same guard, and the whole file is guarded too (the asan-ubsan preset builds without torch).
//
// Model: d -> layers[0] -> ... -> layers[m-1] -> k logits, `activation` after every hidden layer;
// predict_proba is the softmax of the logits (rows sum to 1). Inputs are expected standardised
// (the suite's preprocess scale = "standard"). No dropout, so a fitted model scores
// deterministically.
// Training: Adam (L2 penalty `weight_decay`, as torch::optim::Adam applies it) on the mean
// cross-entropy, `epochs` passes over the training rows, each a seeded shuffle (portable
// Fisher-Yates of core/portable_random.h on ctx.rng) followed by contiguous slices of `batch_size`
// rows of the shuffled tensors (no per-sample loader). Initial weights draw from torch's generator
// seeded with the context seed. float32 on CPU or CUDA as the context says; same seed and thread
// count -> same probabilities.
// Not thread-safe: one instance per cell.
#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "methods.h"
#include "mlp.h"
#include "opsbench/core/error.h"
#include "opsbench/core/portable_random.h"

namespace opsbench::models {
namespace {

class MlpClassifier : public Classifier {
 public:
  explicit MlpClassifier(const Options& o)
      : epochs_(o.get_int("epochs")),
        batch_size_(o.get_int("batch_size")),
        lr_(o.get_double("lr")),
        weight_decay_(o.get_double("weight_decay")),
        activation_(o.get_string("activation")) {
    hidden_ = parse_layer_widths(o.get_list("layers"), "mlp");
  }

  void fit(const Table& train, const std::vector<int>& labels, int num_classes, const Context& ctx) override {
    const Matrix x = train.to_matrix();
    if (x.rows == 0 || x.cols == 0) throw DataError("mlp: the training table is empty");
    if (labels.size() != x.rows)
      throw DataError("mlp: " + std::to_string(labels.size()) + " labels for " + std::to_string(x.rows) + " rows");
    if (num_classes < 2) throw DataError("mlp: needs at least two classes");
    std::vector<std::int64_t> y(labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] < 0 || labels[i] >= num_classes)
        throw DataError("mlp: label " + std::to_string(labels[i]) + " of row " + std::to_string(i) +
                        " is outside [0, " + std::to_string(num_classes) + ")");
      y[i] = labels[i];
    }
    device_ = ctx.device == Device::kCuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    cols_ = x.cols;
    classes_ = num_classes;
    const torch::Tensor tx = to_float_tensor(x, device_, "mlp", "training");
    const auto n = static_cast<std::int64_t>(x.rows);
    const torch::Tensor ty = torch::from_blob(y.data(), {n}, torch::kLong).clone().to(device_);
    torch::manual_seed(ctx.seed);
    model_ = Mlp(MlpOptions(static_cast<std::int64_t>(x.cols), num_classes).hidden(hidden_).activation(activation_));
    model_->to(device_);
    torch::optim::Adam optimizer(model_->parameters(), torch::optim::AdamOptions(lr_).weight_decay(weight_decay_));
    std::mt19937_64 rng = ctx.rng(0x6d6c70636cULL);
    std::vector<std::int64_t> order(x.rows);
    curve_.clear();
    const auto start = std::chrono::steady_clock::now();
    model_->train();
    for (std::int64_t epoch = 0; epoch < epochs_; ++epoch) {
      std::iota(order.begin(), order.end(), 0);
      portable_shuffle(order, rng);
      const torch::Tensor perm = torch::from_blob(order.data(), {n}, torch::kLong).to(device_);
      const torch::Tensor sx = tx.index_select(0, perm), sy = ty.index_select(0, perm);
      torch::Tensor loss_sum = torch::zeros({}, tx.options());
      for (std::int64_t begin = 0; begin < n; begin += batch_size_) {
        const std::int64_t len = std::min(batch_size_, n - begin);
        const torch::Tensor loss =
            torch::nn::functional::cross_entropy(model_->forward(sx.narrow(0, begin, len)), sy.narrow(0, begin, len));
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        loss_sum += loss.detach() * static_cast<double>(len);
      }
      const double mean_loss = loss_sum.item<double>() / static_cast<double>(n);
      if (!std::isfinite(mean_loss))
        throw ModelError("mlp: training diverged (non-finite loss) at epoch " + std::to_string(epoch + 1) +
                         "; lower lr");
      curve_.push_back(mean_loss);
    }
    model_->eval();
    train_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  Matrix predict_proba(const Table& rows, const Context& /*ctx*/) const override {
    if (!model_) throw ModelError("mlp: predict_proba() before fit()");
    const Matrix x = rows.to_matrix();
    if (x.cols != cols_)
      throw DataError("mlp: fitted on " + std::to_string(cols_) + " columns, asked to score " + std::to_string(x.cols));
    const torch::Tensor t = to_float_tensor(x, device_, "mlp", "scored");
    torch::NoGradGuard no_grad;
    Matrix out(x.rows, static_cast<std::size_t>(classes_));
    constexpr std::int64_t kBatch = 4096;
    for (std::int64_t begin = 0; begin < t.size(0); begin += kBatch) {
      const std::int64_t len = std::min(kBatch, t.size(0) - begin);
      // Softmax in double so that each row sums to 1 to double precision.
      const torch::Tensor p =
          torch::softmax(model_->forward(t.narrow(0, begin, len)).to(torch::kDouble), 1).to(torch::kCPU).contiguous();
      const double* src = p.data_ptr<double>();
      std::copy(src, src + len * classes_, out.data.begin() + begin * classes_);
    }
    return out;
  }

  std::size_t model_size_bytes() const override {
    std::size_t bytes = 0;
    if (model_) {
      for (const auto& p : model_->parameters()) bytes += static_cast<std::size_t>(p.numel()) * p.element_size();
    }
    return bytes;
  }

  std::vector<Figure> diagnostics() const override {
    return {{"mlp.final_train_loss", curve_.empty() ? 0.0 : curve_.back(), "nats",
             "mean training cross-entropy of the last epoch (training-mode passes)", true, ""},
            {"mlp.train_time", train_seconds_, "s", "steady_clock", true, ""}};
  }

 private:
  std::int64_t epochs_, batch_size_;
  double lr_, weight_decay_;
  std::string activation_;
  std::vector<std::int64_t> hidden_;
  std::size_t cols_ = 0;
  std::int64_t classes_ = 0;
  torch::Device device_ = torch::kCPU;
  mutable Mlp model_{nullptr};  // forward() is non-const in libtorch; scoring does not change it
  std::vector<double> curve_;
  double train_seconds_ = 0;
};

}  // namespace

void add_neural_classifiers(Registry& registry) {
  MethodEntry e;
  e.name = "mlp";
  e.kind = MethodKind::kClassifier;
  e.description = "MLP classifier (d -> layers -> k, softmax output) trained with Adam on cross-entropy";
  e.reference = "a plain feed-forward network as in scikit-learn's MLPClassifier(solver='adam'), in libtorch";
  e.options = {
      OptionDecl::list("layers", "64;32",
                       "hidden layer widths (e.g. 64;32); empty = no hidden layer (softmax regression)"),
      OptionDecl::choice("activation", "relu", {"relu", "tanh", "sigmoid", "leaky_relu"},
                         "activation after every hidden layer"),
      OptionDecl::integer("epochs", 50, 1, 100000, "passes over the training rows"),
      OptionDecl::integer("batch_size", 256, 1, 1 << 24, "rows per batch (contiguous slices of the shuffled tensors)"),
      OptionDecl::real("lr", 1e-3, 1e-8, 1.0, "Adam learning rate"),
      OptionDecl::real("weight_decay", 0.0, 0.0, 1.0, "L2 penalty added to the gradient by Adam"),
  };
  e.make_classifier = [](const Options& o) -> std::unique_ptr<Classifier> {
    return std::make_unique<MlpClassifier>(o);
  };
  registry.add(std::move(e));
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
