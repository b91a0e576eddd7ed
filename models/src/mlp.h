// Private to models/src (needs libtorch): the plain MLP shared by `mlp-ae` and `mlp`, and the two
// conversions both need. Include only inside #ifdef OPSBENCH_HAVE_TORCH.
//
// Mlp: input_dim -> hidden widths (activation after each) -> output_dim (no activation), Linear
// layers registered as "layers.<i>" so parameter names are stable.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "opsbench/core/matrix.h"

namespace opsbench::models {

struct MlpOptions {
  MlpOptions(std::int64_t input_dim, std::int64_t output_dim) : input_dim_(input_dim), output_dim_(output_dim) {}
  TORCH_ARG(std::int64_t, input_dim);
  TORCH_ARG(std::int64_t, output_dim);
  TORCH_ARG(std::vector<std::int64_t>, hidden) = std::vector<std::int64_t>{64, 32};
  TORCH_ARG(std::string, activation) = "relu";  // relu | tanh | sigmoid | leaky_relu
};

class MlpImpl : public torch::nn::Cloneable<MlpImpl> {
 public:
  explicit MlpImpl(MlpOptions options) : options_(std::move(options)) { reset(); }

  void reset() override {
    layers_ = register_module("layers", torch::nn::ModuleList());
    std::int64_t in = options_.input_dim();
    std::vector<std::int64_t> widths = options_.hidden();
    widths.push_back(options_.output_dim());
    for (std::int64_t out : widths) {
      layers_->push_back(torch::nn::Linear(in, out));
      in = out;
    }
  }

  torch::Tensor forward(torch::Tensor x) {
    const std::size_t n = layers_->size();
    for (std::size_t i = 0; i < n; ++i) {
      x = layers_->ptr<torch::nn::LinearImpl>(i)->forward(x);
      if (i + 1 < n) x = activate(x);
    }
    return x;
  }

 private:
  torch::Tensor activate(const torch::Tensor& x) const {
    const std::string& a = options_.activation();
    if (a == "tanh") return torch::tanh(x);
    if (a == "sigmoid") return torch::sigmoid(x);
    if (a == "leaky_relu") return torch::leaky_relu(x, 0.01);
    return torch::relu(x);
  }

  MlpOptions options_;
  torch::nn::ModuleList layers_{nullptr};
};
TORCH_MODULE(Mlp);

// Rows x cols float32 tensor on `device`; a non-finite value is a DataError naming
// "<method>: <what> row R, column C".
torch::Tensor to_float_tensor(const Matrix& x, const torch::Device& device, const std::string& method,
                              const std::string& what);

// The `layers` option: widths in [1, 2^20]; ConfigError naming the method and the bad entry.
std::vector<std::int64_t> parse_layer_widths(const std::vector<std::string>& items, const std::string& method);

}  // namespace opsbench::models
