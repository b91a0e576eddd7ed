// The VAE of Refine/Prodigy (see vae.h).
#ifdef OPSBENCH_HAVE_TORCH

#include "vae.h"

#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>

#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "opsbench/core/error.h"
#include "opsbench/core/portable_random.h"
#include "adam_kernels.h"
#include "vae_kernels.h"

namespace opsbench::models {

namespace {

// Adam (PyTorch's update rule: beta1 0.9, beta2 0.999, eps 1e-8, no weight decay, bias-corrected)
// fused with total-norm gradient clipping: one pass over each parameter reads p, g, m, v and writes
// p, m, v, where torch::optim::Adam plus clip_grad_norm_ make about ten passes; the loops themselves
// are vectorised per instruction set (adam_kernels.h). Elementwise in fixed chunks, and the squared
// norm is summed per chunk in double and then in chunk order, so the result does not depend on the
// thread count.
class FusedAdam {
 public:
  FusedAdam(std::vector<torch::Tensor> params, double lr) : params_(std::move(params)), lr_(lr) {
    for (const auto& p : params_) {
      m_.push_back(torch::zeros_like(p));
      v_.push_back(torch::zeros_like(p));
    }
  }

  // bf16 copies of the parameters (same order) rewritten with each update (VaeStep's shadows).
  void set_shadows(std::vector<torch::Tensor> shadows) { shadows_ = std::move(shadows); }

  void step(double clip) {
    ++t_;
    if (!params_.empty() && params_.front().is_cuda()) return step_tensor_ops(clip);
    double scale = 1.0;
    if (clip > 0) {
      double sq = 0;
      for (const auto& p : params_) {
        if (!p.grad().defined()) continue;
        const float* g = p.grad().data_ptr<float>();
        const std::int64_t n = p.numel();
        const std::int64_t chunks = (n + kChunk - 1) / kChunk;
        std::vector<double> partial(static_cast<std::size_t>(chunks), 0.0);
        at::parallel_for(0, chunks, 1, [&](std::int64_t begin, std::int64_t end) {
          for (std::int64_t c = begin; c < end; ++c) {
            const std::int64_t begin_c = c * kChunk, end_c = std::min(n, (c + 1) * kChunk);
            partial[static_cast<std::size_t>(c)] = sum_of_squares(g + begin_c, end_c - begin_c);
          }
        });
        for (double x : partial) sq += x;
      }
      const double coef = clip / (std::sqrt(sq) + 1e-6);
      if (coef < 1.0) scale = coef;
    }
    const double bc1 = 1.0 - std::pow(kBeta1, static_cast<double>(t_));
    const double bc2 = 1.0 - std::pow(kBeta2, static_cast<double>(t_));
    AdamStepCoefficients coef;
    coef.grad_scale = static_cast<float>(scale);
    coef.beta1 = kBeta1;
    coef.beta2 = kBeta2;
    coef.step_size = static_cast<float>(lr_ / bc1);
    coef.inv_sqrt_bias2 = static_cast<float>(1.0 / std::sqrt(bc2));
    for (std::size_t k = 0; k < params_.size(); ++k) {
      torch::Tensor& p = params_[k];
      if (!p.grad().defined()) continue;
      float* w = p.data_ptr<float>();
      const float* g = p.grad().data_ptr<float>();
      float* m = m_[k].data_ptr<float>();
      float* v = v_[k].data_ptr<float>();
      c10::BFloat16* shadow = shadows_.empty() ? nullptr : shadows_[k].data_ptr<c10::BFloat16>();
      at::parallel_for(0, p.numel(), kChunk, [&](std::int64_t begin, std::int64_t end) {
        adam_update(w + begin, g + begin, m + begin, v + begin, end - begin, coef);
        if (shadow != nullptr) {
          for (std::int64_t i = begin; i < end; ++i) shadow[i] = c10::BFloat16(w[i]);
        }
      });
    }
  }

  // The same update with tensor operations (CUDA: no raw host loops on device memory).
  void step_tensor_ops(double clip) {
    torch::NoGradGuard no_grad;
    double scale = 1.0;
    if (clip > 0) {
      std::vector<torch::Tensor> norms;
      for (const auto& p : params_) {
        if (p.grad().defined()) norms.push_back(p.grad().to(torch::kDouble).pow(2).sum());
      }
      const double total = norms.empty() ? 0.0 : std::sqrt(torch::stack(norms).sum().item<double>());
      const double coef = clip / (total + 1e-6);
      if (coef < 1.0) scale = coef;
    }
    const double bc1 = 1.0 - std::pow(kBeta1, static_cast<double>(t_));
    const double bc2 = 1.0 - std::pow(kBeta2, static_cast<double>(t_));
    for (std::size_t k = 0; k < params_.size(); ++k) {
      if (!params_[k].grad().defined()) continue;
      const torch::Tensor g = params_[k].grad() * scale;
      m_[k].mul_(kBeta1).add_(g, 1 - kBeta1);
      v_[k].mul_(kBeta2).addcmul_(g, g, 1 - kBeta2);
      const torch::Tensor denom = (v_[k].sqrt() / std::sqrt(bc2)).add_(1e-8);
      params_[k].addcdiv_(m_[k], denom, -lr_ / bc1);
    }
  }

  // Gradients are dropped rather than zeroed: backward allocates them afresh (no memset pass).
  void zero_grad() {
    for (auto& p : params_) p.mutable_grad().reset();
  }

 private:
  static constexpr std::int64_t kChunk = 1 << 16;
  static constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f;
  std::vector<torch::Tensor> params_, m_, v_, shadows_;
  double lr_;
  std::int64_t t_ = 0;
};

// One epoch through autograd (CUDA, or VaeBackward::kAutograd): returns the mean training MAE.
double autograd_epoch(Vae& model, const torch::Tensor& shuffled, const VaeTrainConfig& config, FusedAdam& optimizer) {
  const std::int64_t n = shuffled.size(0);
  torch::Tensor mae_sum = torch::zeros({}, shuffled.options());
  for (std::int64_t begin = 0; begin < n; begin += config.batch_size) {
    const std::int64_t len = std::min<std::int64_t>(config.batch_size, n - begin);
    const torch::Tensor batch = shuffled.narrow(0, begin, len);
    const VaeOutput out = model->forward(batch);
    const torch::Tensor diff = out.reconstruction - batch;
    const torch::Tensor recon = diff.pow(2).sum(1).mean();
    const torch::Tensor kl = (-0.5 * (1 + out.logvar - out.mean.pow(2) - out.logvar.exp()).sum(1)).mean();
    const torch::Tensor loss = recon + config.beta * kl;
    optimizer.zero_grad();
    loss.backward();
    optimizer.step(config.clip);
    mae_sum += diff.detach().abs().mean(1).sum();
  }
  return mae_sum.item<double>() / static_cast<double>(n);
}

}  // namespace

VaeImpl::VaeImpl(VaeOptions options) : options_(std::move(options)) { reset(); }

std::int64_t VaeImpl::hidden() const {
  return std::max<std::int64_t>(1, options_.hidden_dim() > 0 ? options_.hidden_dim() : options_.input_dim() / 2);
}
std::int64_t VaeImpl::latent() const {
  return std::max<std::int64_t>(1, options_.latent_dim() > 0 ? options_.latent_dim() : options_.input_dim() / 3);
}

void VaeImpl::reset() {
  const std::int64_t d = options_.input_dim(), h = hidden(), z = latent();
  encoder_ = register_module("encoder", torch::nn::Linear(d, h));
  mean_ = register_module("mean", torch::nn::Linear(h, z));
  logvar_ = register_module("logvar", torch::nn::Linear(h, z));
  decoder_ = register_module("decoder", torch::nn::Linear(z, h));
  output_ = register_module("output", torch::nn::Linear(h, d));
}

VaeOutput VaeImpl::forward(const torch::Tensor& x) {
  const torch::Tensor hidden = torch::relu(encoder_(x));
  VaeOutput out;
  out.mean = mean_(hidden);
  out.logvar = logvar_(hidden);
  torch::Tensor z = out.mean;
  if (is_training()) z = out.mean + torch::exp(0.5 * out.logvar) * torch::randn_like(out.mean);
  out.reconstruction = torch::sigmoid(output_(torch::relu(decoder_(z))));
  return out;
}

Vae make_vae(std::int64_t input_dim, std::int64_t hidden_dim, std::int64_t latent_dim, std::uint64_t seed,
             const torch::Device& device) {
  torch::manual_seed(seed);
  Vae model(VaeOptions(input_dim).hidden_dim(hidden_dim).latent_dim(latent_dim));
  model->to(device);
  return model;
}

std::vector<double> train_vae(Vae& model, const torch::Tensor& x, const VaeTrainConfig& config,
                              std::vector<double>* epoch_seconds) {
  const std::int64_t n = x.size(0);
  if (n == 0) throw DataError("VAE: no training rows");
  torch::manual_seed(config.seed ^ 0x9e3779b97f4a7c15ULL);
  std::mt19937_64 rng(config.seed);
  const bool manual = config.backward == VaeBackward::kManual && x.device().is_cpu();
  const bool low = config.precision == VaePrecision::kBFloat16;
  if (low && !manual) throw ConfigError("VAE: bf16 precision needs the manual step on the CPU");
  FusedAdam optimizer(model->parameters(), config.learning_rate);
  std::unique_ptr<VaeStep> step;
  if (manual) {
    step = std::make_unique<VaeStep>(*model, std::min<std::int64_t>(config.batch_size, n), config.precision);
    optimizer.set_shadows(step->shadows());
  }
  model->train();
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::vector<double> curve;
  curve.reserve(static_cast<std::size_t>(config.epochs));
  for (int epoch = 0; epoch < config.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    std::iota(order.begin(), order.end(), 0);
    portable_shuffle(order, rng);
    const torch::Tensor perm = torch::from_blob(order.data(), {n}, torch::kLong).to(x.device());
    const torch::Tensor shuffled = x.index_select(0, perm);
    double mae;
    if (manual) {
      const torch::Tensor shuffled_low = low ? shuffled.to(torch::kBFloat16) : torch::Tensor();
      double sum = 0;
      for (std::int64_t begin = 0; begin < n; begin += config.batch_size) {
        const std::int64_t len = std::min<std::int64_t>(config.batch_size, n - begin);
        sum += step->run(shuffled.narrow(0, begin, len),
                         low ? shuffled_low.narrow(0, begin, len) : torch::Tensor(), config.beta);
        optimizer.step(config.clip);
      }
      mae = sum / static_cast<double>(n);
    } else {
      mae = autograd_epoch(model, shuffled, config, optimizer);
    }
    if (!std::isfinite(mae)) throw ModelError("VAE training diverged (non-finite loss) at epoch " + std::to_string(epoch + 1));
    curve.push_back(mae);
    if (epoch_seconds != nullptr) {
      epoch_seconds->push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  model->eval();
  return curve;
}

std::vector<double> reconstruction_mae(Vae& model, const torch::Tensor& x, int batch_size) {
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(x.size(0)));
  for (std::int64_t begin = 0; begin < x.size(0); begin += batch_size) {
    const std::int64_t len = std::min<std::int64_t>(batch_size, x.size(0) - begin);
    const torch::Tensor batch = x.narrow(0, begin, len);
    const torch::Tensor mae = (model->forward(batch).reconstruction - batch).abs().mean(1).to(torch::kCPU).to(torch::kDouble);
    const double* p = mae.data_ptr<double>();
    out.insert(out.end(), p, p + len);
  }
  return out;
}

torch::Tensor to_tensor(const Matrix& x, const torch::Device& device) {
  torch::Tensor t = torch::empty({static_cast<std::int64_t>(x.rows), static_cast<std::int64_t>(x.cols)}, torch::kFloat);
  float* p = t.data_ptr<float>();
  for (std::size_t i = 0; i < x.data.size(); ++i) p[i] = static_cast<float>(x.data[i]);
  return t.to(device);
}

std::size_t parameter_bytes(const Vae& model) {
  std::size_t bytes = 0;
  for (const auto& p : model->parameters()) bytes += static_cast<std::size_t>(p.numel()) * p.element_size();
  return bytes;
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
