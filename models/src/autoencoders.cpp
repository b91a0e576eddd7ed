// mlp-ae: a fully connected autoencoder detector in libtorch (registered by add_autoencoders,
// see methods.h). Built only with libtorch: register_models() calls add_autoencoders under the
// same guard.
//
// Model: d -> layers[0] -> ... -> layers[m-1] -> d, `activation` after every hidden layer and a
// linear output (inputs are expected standardised, so the reconstruction is unbounded). The
// default (empty `layers`) is an undercomplete h;z;h with h = max(2, ceil(d/2)) and
// z = max(1, ceil(d/4)): a bottleneck narrower than the input, so the network cannot learn the
// identity. PyOD's AutoEncoder (the Flow-Bench MLPAE baseline) uses 64;32;32;64 whatever d, which
// is overcomplete for Flow-Bench's nine features; give `layers` explicitly to reproduce it. No
// dropout (so fitted models are deterministic to score).
// Training: Adam on the mean squared reconstruction error, `epochs` passes over the training
// rows, each a seeded shuffle (std::mt19937_64 with the portable Fisher-Yates of
// core/portable_random.h) followed by contiguous slices of `batch_size` rows of the shuffled
// tensor (no per-sample loader). Initial weights draw from torch's generator seeded with the
// context seed. float32, CPU or CUDA as the context says; same seed and thread count -> same
// scores (libtorch's CPU kernels may round differently under other thread counts).
// Score: per-row mean squared error between the row and its reconstruction (score = "mse"), or
// its Euclidean norm (score = "euclidean", PyOD's decision_function); higher = more anomalous.
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

class MlpAeDetector : public Detector {
 public:
  explicit MlpAeDetector(const Options& o)
      : epochs_(o.get_int("epochs")),
        batch_size_(o.get_int("batch_size")),
        lr_(o.get_double("lr")),
        activation_(o.get_string("activation")),
        euclidean_(o.get_string("score") == "euclidean") {
    hidden_ = parse_layer_widths(o.get_list("layers"), "mlp-ae");
  }

  void fit(const Table& train, const Context& ctx) override {
    const Matrix x = train.to_matrix();
    if (x.rows == 0 || x.cols == 0) throw DataError("mlp-ae: the training table is empty");
    device_ = ctx.device == Device::kCuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    cols_ = x.cols;
    const torch::Tensor t = to_float_tensor(x, device_, "mlp-ae", "training");
    torch::manual_seed(ctx.seed);
    std::vector<std::int64_t> hidden = hidden_;
    if (hidden.empty()) {
      const auto d = static_cast<std::int64_t>(x.cols);
      const std::int64_t h = std::max<std::int64_t>(2, (d + 1) / 2), z = std::max<std::int64_t>(1, (d + 3) / 4);
      hidden = {h, z, h};
    }
    widths_ = hidden;
    model_ = Mlp(MlpOptions(static_cast<std::int64_t>(x.cols), static_cast<std::int64_t>(x.cols))
                     .hidden(hidden)
                     .activation(activation_));
    model_->to(device_);
    torch::optim::Adam optimizer(model_->parameters(), torch::optim::AdamOptions(lr_));
    std::mt19937_64 rng = ctx.rng(0x6d6c7061ULL);
    const auto n = static_cast<std::int64_t>(x.rows);
    std::vector<std::int64_t> order(x.rows);
    curve_.clear();
    const auto start = std::chrono::steady_clock::now();
    model_->train();
    for (std::int64_t epoch = 0; epoch < epochs_; ++epoch) {
      std::iota(order.begin(), order.end(), 0);
      portable_shuffle(order, rng);
      const torch::Tensor perm = torch::from_blob(order.data(), {n}, torch::kLong).to(device_);
      const torch::Tensor shuffled = t.index_select(0, perm);
      torch::Tensor loss_sum = torch::zeros({}, t.options());
      for (std::int64_t begin = 0; begin < n; begin += batch_size_) {
        const std::int64_t len = std::min(batch_size_, n - begin);
        const torch::Tensor batch = shuffled.narrow(0, begin, len);
        const torch::Tensor loss = (model_->forward(batch) - batch).pow(2).mean();
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        loss_sum += loss.detach() * static_cast<double>(len);
      }
      const double mse = loss_sum.item<double>() / static_cast<double>(n);
      if (!std::isfinite(mse)) {
        throw ModelError("mlp-ae: training diverged (non-finite loss) at epoch " + std::to_string(epoch + 1) +
                         "; lower lr");
      }
      curve_.push_back(mse);
    }
    model_->eval();
    train_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  std::vector<double> score(const Table& rows, const Context& /*ctx*/) const override {
    if (!model_) throw ModelError("mlp-ae: score() before fit()");
    const Matrix x = rows.to_matrix();
    if (x.cols != cols_) {
      throw DataError("mlp-ae: fitted on " + std::to_string(cols_) + " columns, asked to score " +
                      std::to_string(x.cols));
    }
    const torch::Tensor t = to_float_tensor(x, device_, "mlp-ae", "scored");
    torch::NoGradGuard no_grad;
    std::vector<double> out;
    out.reserve(x.rows);
    constexpr std::int64_t kBatch = 4096;
    for (std::int64_t begin = 0; begin < t.size(0); begin += kBatch) {
      const std::int64_t len = std::min(kBatch, t.size(0) - begin);
      const torch::Tensor batch = t.narrow(0, begin, len);
      torch::Tensor err = (model_->forward(batch) - batch).pow(2);
      err = euclidean_ ? err.sum(1).sqrt() : err.mean(1);
      const torch::Tensor host = err.to(torch::kCPU).to(torch::kDouble).contiguous();
      const double* p = host.data_ptr<double>();
      out.insert(out.end(), p, p + len);
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
    std::vector<Figure> out;
    out.push_back({"mlp_ae.final_train_mse", curve_.empty() ? 0.0 : curve_.back(), "MSE",
                   "mean training loss of the last epoch (training-mode passes)", true, ""});
    out.push_back({"mlp_ae.train_time", train_seconds_, "s", "steady_clock", true, ""});
    out.push_back({"mlp_ae.bottleneck",
                   widths_.empty() ? 0.0 : static_cast<double>(*std::min_element(widths_.begin(), widths_.end())),
                   "units", "narrowest hidden layer as fitted", true, ""});
    return out;
  }

 private:
  std::int64_t epochs_, batch_size_;
  double lr_;
  std::string activation_;
  bool euclidean_;
  std::vector<std::int64_t> hidden_;  // as declared; empty = automatic
  std::vector<std::int64_t> widths_;  // as fitted
  std::size_t cols_ = 0;
  torch::Device device_ = torch::kCPU;
  mutable Mlp model_{nullptr};  // forward() is non-const in libtorch; scoring does not change it
  std::vector<double> curve_;
  double train_seconds_ = 0;
};

}  // namespace

void add_autoencoders(Registry& registry) {
  MethodEntry e;
  e.name = "mlp-ae";
  e.kind = MethodKind::kDetector;
  e.description =
      "MLP autoencoder (d -> layers -> d, linear output) trained with Adam on MSE; score = reconstruction error";
  e.reference = "PyOD AutoEncoder as used by Flow-Bench's MLPAE baseline (Jin et al.), without dropout";
  e.options = {
      OptionDecl::list("layers", "",
                       "hidden layer widths, encoder then decoder (e.g. 64;32;64); empty = h;z;h with "
                       "h = max(2, ceil(d/2)), z = max(1, ceil(d/4))"),
      OptionDecl::choice("activation", "relu", {"relu", "tanh", "sigmoid", "leaky_relu"},
                         "activation after every hidden layer (the output is linear)"),
      OptionDecl::integer("epochs", 50, 1, 100000, "passes over the training rows"),
      OptionDecl::integer("batch_size", 256, 1, 1 << 24, "rows per batch (contiguous slices of the shuffled tensor)"),
      OptionDecl::real("lr", 1e-3, 1e-8, 1.0, "Adam learning rate"),
      OptionDecl::choice("score", "mse", {"mse", "euclidean"},
                         "mse: mean squared error per row; euclidean: L2 norm of the error (PyOD)"),
  };
  e.make_detector = [](const Options& o) -> std::unique_ptr<Detector> { return std::make_unique<MlpAeDetector>(o); };
  registry.add(std::move(e));
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
