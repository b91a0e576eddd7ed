// The VAE training step written out by hand for the CPU (private to models/; see vae.h).
//
// VaeStep computes, for one batch, the forward pass, the loss gradients of all ten parameters and
// the batch's reconstruction-MAE sum, with the same mathematics as the autograd path of train_vae
// (vae.cpp) and in the same order of draws from torch's generator (one randn_like per batch), so
// both paths agree to float rounding (tests/models/vae_test.cpp). What it saves over autograd:
// no graph, no per-batch allocation (every buffer is sized once for the largest batch), the
// elementwise work fused into one pass per layer (sigmoid + loss derivative + MAE; reparameterise;
// ReLU masks; KL derivatives) and the gradients written straight into each parameter's grad().
//
// Precision: kFloat32 runs every matrix product in float32 (OpenBLAS through at::addmm/mm).
// kBFloat16 is mixed precision: the operands of every matrix product (inputs, activations, output
// gradients, and bf16 shadow copies of the weights) are bfloat16 and products are accumulated in
// float32 by oneDNN (avx512_bf16 where the CPU has it); outputs of the products are rounded to
// bfloat16 as torch's CPU autocast does; elementwise work, gradients, Adam state and the master
// weights stay float32. The optimiser refreshes the shadows after each update (shadows()).
#pragma once

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "vae.h"

namespace opsbench::models {

class VaeStep {
 public:
  // Binds to `model`'s parameters (CPU, float32) and assigns them gradient buffers.
  VaeStep(VaeImpl& model, std::int64_t max_batch, VaePrecision precision);
  ~VaeStep();
  VaeStep(const VaeStep&) = delete;
  VaeStep& operator=(const VaeStep&) = delete;

  // One batch: x is float32 [rows <= max_batch, d]; x_low is the same rows in bfloat16 for
  // kBFloat16 (undefined for kFloat32). Overwrites every parameter's grad() and returns the sum
  // over rows of the row's mean |x' - x| (training-mode reconstruction).
  double run(const torch::Tensor& x, const torch::Tensor& x_low, double beta);

  // kBFloat16: the bf16 copies of model->parameters() (same order) the products read; the
  // optimiser writes them after each update. Empty for kFloat32.
  const std::vector<torch::Tensor>& shadows() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
