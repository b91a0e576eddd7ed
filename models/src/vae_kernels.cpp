// The hand-written VAE training step (see vae_kernels.h).
#ifdef OPSBENCH_HAVE_TORCH

#include "vae_kernels.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace opsbench::models {

namespace {

constexpr std::int64_t kGrain = 16;  // rows per parallel task of the elementwise passes

inline float to_f(float v) { return v; }
inline float to_f(c10::BFloat16 v) { return static_cast<float>(v); }

// Forward and backward of one batch with matrix-product operands of type T (float or bf16). Names
// follow vae.h: x -> a1 -> h = relu(a1) -> (mean, logvar) -> z = mean + exp(logvar / 2) * eps ->
// a3 -> h2 = relu(a3) -> a4 -> r = sigmoid(a4). Buffers are reused in place along the backward:
// a4 becomes d(loss)/d(a4), dh2 becomes d/d(a3), dh becomes d/d(a1).
template <typename T>
class Step {
 public:
  Step(VaeImpl& model, std::int64_t max_batch) {
    const std::int64_t d = model.options().input_dim(), h = model.hidden(), z = model.latent();
    params_ = model.parameters();  // encoder, mean, logvar, decoder, output: weight then bias each
    for (auto& p : params_) {
      p.mutable_grad() = torch::zeros_like(p);
      grads_.push_back(p.grad());
    }
    const auto gemm = torch::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value);
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat);
    if constexpr (!std::is_same_v<T, float>) {
      torch::NoGradGuard no_grad;
      for (const auto& p : params_) shadows_.push_back(p.detach().to(gemm.dtype()));
      for (std::size_t k = 0; k < params_.size(); k += 2) weight_grad_low_.push_back(torch::empty_like(shadows_[k]));
    }
    a1_ = torch::empty({max_batch, h}, gemm);
    mean_ = torch::empty({max_batch, z}, gemm);
    logvar_ = torch::empty({max_batch, z}, gemm);
    std_ = torch::empty({max_batch, z}, f32);
    z_ = torch::empty({max_batch, z}, gemm);
    a3_ = torch::empty({max_batch, h}, gemm);
    a4_ = torch::empty({max_batch, d}, gemm);
    dh2_ = torch::empty({max_batch, h}, gemm);
    dz_ = torch::empty({max_batch, z}, gemm);
    dmean_ = torch::empty({max_batch, z}, gemm);
    dlogvar_ = torch::empty({max_batch, z}, gemm);
    dh_ = torch::empty({max_batch, h}, gemm);
    row_mae_.resize(static_cast<std::size_t>(max_batch));
  }

  const std::vector<torch::Tensor>& shadows() const { return shadows_; }

  double run(const torch::Tensor& x32, const torch::Tensor& x_low, double beta) {
    torch::NoGradGuard no_grad;
    const std::int64_t n = x32.size(0);
    const torch::Tensor x = std::is_same_v<T, float> ? x32 : x_low;
    const auto& w = std::is_same_v<T, float> ? params_ : shadows_;
    const torch::Tensor &w1 = w[0], &b1 = w[1], &wm = w[2], &bm = w[3], &wl = w[4], &bl = w[5], &w3 = w[6],
                        &b3 = w[7], &w4 = w[8], &b4 = w[9];
    torch::Tensor a1 = a1_.narrow(0, 0, n), mean = mean_.narrow(0, 0, n), logvar = logvar_.narrow(0, 0, n),
                  sd = std_.narrow(0, 0, n), z = z_.narrow(0, 0, n), a3 = a3_.narrow(0, 0, n),
                  a4 = a4_.narrow(0, 0, n), dh2 = dh2_.narrow(0, 0, n), dz = dz_.narrow(0, 0, n),
                  dmean = dmean_.narrow(0, 0, n), dlogvar = dlogvar_.narrow(0, 0, n), dh = dh_.narrow(0, 0, n);

    // Forward. The noise is drawn exactly as the autograd path draws it (randn_like of the mean).
    at::addmm_out(a1, b1, x, w1.t());
    relu_(a1);
    at::addmm_out(mean, bm, a1, wm.t());
    at::addmm_out(logvar, bl, a1, wl.t());
    const torch::Tensor eps = torch::randn_like(mean, torch::kFloat);
    reparameterise(mean, logvar, eps, sd, z);
    at::addmm_out(a3, b3, z, w3.t());
    relu_(a3);
    at::addmm_out(a4, b4, a3, w4.t());
    const double mae = output_pass(a4, x32);

    // Backward: loss = mean_rows sum (r - x)^2 + beta * mean_rows KL.
    weight_grad(8, a4.t(), a3);
    bias_grad(9, a4);
    at::mm_out(dh2, a4, w4);
    relu_backward_(dh2, a3);
    weight_grad(6, dh2.t(), z);
    bias_grad(7, dh2);
    at::mm_out(dz, dh2, w3);
    latent_backward(dz, mean, logvar, eps, sd, beta, dmean, dlogvar);
    weight_grad(2, dmean.t(), a1);
    bias_grad(3, dmean);
    weight_grad(4, dlogvar.t(), a1);
    bias_grad(5, dlogvar);
    at::mm_out(dh, dmean, wm);
    dh.addmm_(dlogvar, wl);
    relu_backward_(dh, a1);
    weight_grad(0, dh.t(), x);
    bias_grad(1, dh);
    return mae;
  }

 private:
  static void relu_(torch::Tensor& t) {
    T* p = t.data_ptr<T>();
    const std::int64_t cols = t.size(1);
    at::parallel_for(0, t.size(0), kGrain, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin * cols; i < end * cols; ++i) p[i] = to_f(p[i]) > 0.f ? p[i] : T(0.f);
    });
  }

  // g *= (activation > 0): ReLU's derivative from its output (torch's threshold_backward rule).
  static void relu_backward_(torch::Tensor& g, const torch::Tensor& activation) {
    T* pg = g.data_ptr<T>();
    const T* pa = activation.data_ptr<T>();
    const std::int64_t cols = g.size(1);
    at::parallel_for(0, g.size(0), kGrain, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin * cols; i < end * cols; ++i) pg[i] = to_f(pa[i]) > 0.f ? pg[i] : T(0.f);
    });
  }

  // sd = exp(logvar / 2), z = mean + sd * eps.
  static void reparameterise(const torch::Tensor& mean, const torch::Tensor& logvar, const torch::Tensor& eps,
                             torch::Tensor& sd, torch::Tensor& z) {
    const T *pm = mean.data_ptr<T>(), *pl = logvar.data_ptr<T>();
    const float* pe = eps.data_ptr<float>();
    float* ps = sd.data_ptr<float>();
    T* pz = z.data_ptr<T>();
    const std::int64_t cols = mean.size(1);
    at::parallel_for(0, mean.size(0), kGrain, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin * cols; i < end * cols; ++i) {
        ps[i] = std::exp(0.5f * to_f(pl[i]));
        pz[i] = T(to_f(pm[i]) + ps[i] * pe[i]);
      }
    });
  }

  // r = sigmoid(a4); the row's mean |r - x| (returned summed over rows, in row order); a4 is
  // overwritten with d(loss)/d(a4) = 2 (r - x) / rows * r (1 - r).
  double output_pass(torch::Tensor& a4, const torch::Tensor& x) {
    T* pa = a4.data_ptr<T>();
    const float* px = x.data_ptr<float>();
    const std::int64_t rows = a4.size(0), cols = a4.size(1);
    const float scale = 2.f / static_cast<float>(rows), inv_cols = 1.f / static_cast<float>(cols);
    at::parallel_for(0, rows, kGrain, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t r = begin; r < end; ++r) {
        float acc = 0;
        for (std::int64_t j = r * cols; j < (r + 1) * cols; ++j) {
          const float y = 1.f / (1.f + std::exp(-to_f(pa[j])));
          const float diff = y - px[j];
          acc += std::fabs(diff);
          pa[j] = T(scale * diff * y * (1.f - y));
        }
        row_mae_[static_cast<std::size_t>(r)] = acc * inv_cols;
      }
    });
    double sum = 0;
    for (std::int64_t r = 0; r < rows; ++r) sum += row_mae_[static_cast<std::size_t>(r)];
    return sum;
  }

  // dz -> d/d(mean) = dz + beta mean / rows and d/d(logvar) = dz eps sd / 2 + beta (exp(logvar) - 1)
  // / (2 rows): the reparameterisation plus the KL term -0.5 (1 + logvar - mean^2 - exp(logvar)).
  static void latent_backward(const torch::Tensor& dz, const torch::Tensor& mean, const torch::Tensor& logvar,
                              const torch::Tensor& eps, const torch::Tensor& sd, double beta, torch::Tensor& dmean,
                              torch::Tensor& dlogvar) {
    const T *pdz = dz.data_ptr<T>(), *pm = mean.data_ptr<T>(), *pl = logvar.data_ptr<T>();
    const float *pe = eps.data_ptr<float>(), *ps = sd.data_ptr<float>();
    T *pdm = dmean.data_ptr<T>(), *pdl = dlogvar.data_ptr<T>();
    const std::int64_t rows = dz.size(0), cols = dz.size(1);
    const float kl = static_cast<float>(beta) / static_cast<float>(rows);
    at::parallel_for(0, rows, kGrain, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin * cols; i < end * cols; ++i) {
        const float g = to_f(pdz[i]);
        pdm[i] = T(g + kl * to_f(pm[i]));
        pdl[i] = T(0.5f * g * pe[i] * ps[i] + 0.5f * kl * (std::exp(to_f(pl[i])) - 1.f));
      }
    });
  }

  // grad of weight k = g^T a (float32 product, or bf16 product widened into the float32 grad).
  void weight_grad(std::size_t k, const torch::Tensor& gt, const torch::Tensor& a) {
    if constexpr (std::is_same_v<T, float>) {
      at::mm_out(grads_[k], gt, a);
    } else {
      torch::Tensor& low = weight_grad_low_[k / 2];
      at::mm_out(low, gt, a);
      grads_[k].copy_(low);
    }
  }

  void bias_grad(std::size_t k, const torch::Tensor& g) { at::sum_out(grads_[k], g, {0}, false, torch::kFloat); }

  std::vector<torch::Tensor> params_, grads_, shadows_, weight_grad_low_;
  torch::Tensor a1_, mean_, logvar_, std_, z_, a3_, a4_, dh2_, dz_, dmean_, dlogvar_, dh_;
  std::vector<float> row_mae_;
};

}  // namespace

struct VaeStep::Impl {
  std::unique_ptr<Step<float>> f32;
  std::unique_ptr<Step<c10::BFloat16>> bf16;
};

VaeStep::VaeStep(VaeImpl& model, std::int64_t max_batch, VaePrecision precision) : impl_(std::make_unique<Impl>()) {
  if (precision == VaePrecision::kBFloat16) {
    impl_->bf16 = std::make_unique<Step<c10::BFloat16>>(model, max_batch);
  } else {
    impl_->f32 = std::make_unique<Step<float>>(model, max_batch);
  }
}

VaeStep::~VaeStep() = default;

double VaeStep::run(const torch::Tensor& x, const torch::Tensor& x_low, double beta) {
  return impl_->bf16 ? impl_->bf16->run(x, x_low, beta) : impl_->f32->run(x, x_low, beta);
}

const std::vector<torch::Tensor>& VaeStep::shadows() const {
  static const std::vector<torch::Tensor> kNone;
  return impl_->bf16 ? impl_->bf16->shadows() : kNone;
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
