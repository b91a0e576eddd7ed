// The Refine/Prodigy variational autoencoder in libtorch (private to models/: includes torch).
//
// Architecture (Refine paper, Sec. III): dense d -> h = d/2 with ReLU -> latent z = d/3 as a mean
// and a log-variance head; z = mean + exp(logvar / 2) * eps in training (reparameterisation), z =
// mean in evaluation; mirrored decoder z -> h with ReLU -> d with a sigmoid output (inputs are
// min-max scaled to [0, 1]). h and z are at least 1.
//
// Loss per batch: mean over rows of [sum over features of (x - x')^2] + beta * mean over rows of
// KL(q(z|x) || N(0, I)) = -0.5 * sum(1 + logvar - mean^2 - exp(logvar)).
// Training: Adam (lr 1e-4 by default; PyTorch's update rule, betas 0.9/0.999, eps 1e-8), gradient
// norm clipped to `clip` (total L2 norm over all parameters, clip_grad_norm_'s rule), both fused in
// one pass per parameter (vae.cpp: FusedAdam; tensor operations on CUDA), batches of `batch_size`
// rows as contiguous slices of the training tensor shuffled once per epoch (no per-sample loader). The shuffle draws from a
// std::mt19937_64 seeded from the config seed (portable bounded draws); parameter initialisation
// and the reparameterisation noise draw from torch's default generator, seeded by make_vae() and
// train_vae(). On the CPU the gradients come from a hand-written step (vae_kernels.h: VaeStep, no
// autograd graph, fused elementwise passes); on CUDA, or with VaeBackward::kAutograd, from
// autograd. float32 throughout by default, CPU or CUDA as the context says; VaePrecision::kBFloat16
// is an opt-in mixed-precision mode for the CPU (bf16 matrix products, float32 everything else).
// Score: per-row mean absolute error between x and the evaluation-mode reconstruction.
#pragma once

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "opsbench/core/matrix.h"

namespace opsbench::models {

struct VaeOptions {
  explicit VaeOptions(std::int64_t input_dim) : input_dim_(input_dim) {}
  TORCH_ARG(std::int64_t, input_dim);
  TORCH_ARG(std::int64_t, hidden_dim) = 0;  // 0: input_dim / 2
  TORCH_ARG(std::int64_t, latent_dim) = 0;  // 0: input_dim / 3
};

struct VaeOutput {
  torch::Tensor reconstruction;
  torch::Tensor mean;
  torch::Tensor logvar;
};

class VaeImpl : public torch::nn::Cloneable<VaeImpl> {
 public:
  explicit VaeImpl(VaeOptions options);
  void reset() override;
  VaeOutput forward(const torch::Tensor& x);

  const VaeOptions& options() const { return options_; }
  std::int64_t hidden() const;
  std::int64_t latent() const;

 private:
  VaeOptions options_;
  torch::nn::Linear encoder_{nullptr}, mean_{nullptr}, logvar_{nullptr}, decoder_{nullptr}, output_{nullptr};
};
TORCH_MODULE(Vae);

// Arithmetic of the matrix products in training (vae_kernels.h states both): kFloat32 throughout,
// or kBFloat16 mixed precision (bf16 operands, float32 accumulation, float32 master weights, Adam
// state and elementwise work). kBFloat16 needs the manual CPU step.
enum class VaePrecision { kFloat32, kBFloat16 };

// How gradients are computed: kManual is VaeStep (vae_kernels.h) on the CPU; kAutograd is torch's
// autograd on the module (always used on CUDA). Both give the same result to float rounding.
enum class VaeBackward { kManual, kAutograd };

struct VaeTrainConfig {
  int epochs = 100;
  int batch_size = 256;
  double learning_rate = 1e-4;
  double clip = 0.5;
  double beta = 1.0;
  std::uint64_t seed = 0;
  VaePrecision precision = VaePrecision::kFloat32;
  VaeBackward backward = VaeBackward::kManual;
};

// A freshly initialised model (torch seeded from `seed` first, so initial weights are reproducible).
Vae make_vae(std::int64_t input_dim, std::int64_t hidden_dim, std::int64_t latent_dim, std::uint64_t seed,
             const torch::Device& device);

// Trains in place and returns the per-epoch curve: the mean over the epoch's rows of the training
// reconstruction MAE (from the training-mode forward passes, so no extra pass over the data).
// ModelError when the loss becomes non-finite; ConfigError for kBFloat16 with kAutograd or on CUDA. epoch_seconds (optional) receives the steady-clock
// wall time of each epoch (shuffle, batches, the curve's one host sync).
std::vector<double> train_vae(Vae& model, const torch::Tensor& x, const VaeTrainConfig& config,
                              std::vector<double>* epoch_seconds = nullptr);

// Per-row MAE in evaluation mode, in batches of `batch_size` rows.
std::vector<double> reconstruction_mae(Vae& model, const torch::Tensor& x, int batch_size = 4096);

// Row-major float64 matrix -> float32 tensor on `device`.
torch::Tensor to_tensor(const Matrix& x, const torch::Device& device);

// Bytes of the parameters (what a saved model holds).
std::size_t parameter_bytes(const Vae& model);

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
