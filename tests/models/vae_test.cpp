// The hand-written VAE training step (models/src/vae_kernels.h) against torch's autograd on the same
// module: gradients, parameters after the update and the MAE curve agree to float rounding; the
// bf16 mode is deterministic and stays near the float32 result.
#include <catch2/catch.hpp>

#ifdef OPSBENCH_HAVE_TORCH

#include "vae.h"

#include "opsbench/core/error.h"

using namespace opsbench::models;

namespace {

// 40 rows x 12 features in [0, 1], fixed by the seed.
torch::Tensor rows(std::uint64_t seed) {
  torch::manual_seed(seed);
  return torch::rand({40, 12});
}

struct Trained {
  Vae model{nullptr};
  std::vector<double> curve;
};

Trained train(VaeBackward backward, VaePrecision precision, int epochs, int batch) {
  Trained t;
  t.model = make_vae(12, 0, 0, 7, torch::kCPU);
  VaeTrainConfig config;
  config.epochs = epochs;
  config.batch_size = batch;
  config.learning_rate = 1e-3;
  config.clip = 0.5;
  config.beta = 0.7;
  config.seed = 3;
  config.backward = backward;
  config.precision = precision;
  t.curve = train_vae(t.model, rows(11), config);
  return t;
}

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

}  // namespace

TEST_CASE("manual VAE step matches autograd: one batch", "[models][vae]") {
  // One full batch of 40 rows: a single step, so the gradients left on the parameters are the
  // step's gradients on both sides (before clipping, which the optimiser applies on the fly).
  const Trained manual = train(VaeBackward::kManual, VaePrecision::kFloat32, 1, 64);
  const Trained autograd = train(VaeBackward::kAutograd, VaePrecision::kFloat32, 1, 64);
  const auto pm = manual.model->named_parameters();
  const auto pa = autograd.model->named_parameters();
  REQUIRE(pm.size() == 10);
  for (const auto& item : pm) {
    INFO(item.key());
    const torch::Tensor gm = item.value().grad(), ga = pa[item.key()].grad();
    REQUIRE(gm.defined());
    REQUIRE(ga.defined());
    CHECK(max_abs(gm - ga) <= 1e-5 * (1 + max_abs(ga)));
    // Adam's first step moves each weight by about lr * sign(gradient): compare where the sign is
    // not decided by rounding.
    const torch::Tensor clear = ga.abs() > 1e-4 * max_abs(ga);
    CHECK(max_abs((item.value() - pa[item.key()]).masked_select(clear)) <= 1e-6);
  }
  REQUIRE(manual.curve.size() == 1);
  CHECK(manual.curve[0] == Approx(autograd.curve[0]).epsilon(1e-5));
}

TEST_CASE("manual VAE step matches autograd over epochs with a short last batch", "[models][vae]") {
  // 40 rows in batches of 16: two full batches and one of 8, 5 epochs (15 Adam steps).
  const Trained manual = train(VaeBackward::kManual, VaePrecision::kFloat32, 5, 16);
  const Trained autograd = train(VaeBackward::kAutograd, VaePrecision::kFloat32, 5, 16);
  REQUIRE(manual.curve.size() == autograd.curve.size());
  for (std::size_t e = 0; e < manual.curve.size(); ++e) {
    CHECK(manual.curve[e] == Approx(autograd.curve[e]).epsilon(1e-4));
  }
  // The gradients of the last (short) batch, after 14 updates on each side.
  const auto pa = autograd.model->named_parameters();
  for (const auto& item : manual.model->named_parameters()) {
    INFO(item.key());
    const torch::Tensor ga = pa[item.key()].grad();
    CHECK(max_abs(item.value().grad() - ga) <= 1e-3 * (1 + max_abs(ga)));
  }
}

TEST_CASE("bf16 VAE training is deterministic and close to float32", "[models][vae]") {
  const Trained a = train(VaeBackward::kManual, VaePrecision::kBFloat16, 5, 16);
  const Trained b = train(VaeBackward::kManual, VaePrecision::kBFloat16, 5, 16);
  const Trained f = train(VaeBackward::kManual, VaePrecision::kFloat32, 5, 16);
  REQUIRE(a.curve == b.curve);
  for (std::size_t e = 0; e < a.curve.size(); ++e) CHECK(a.curve[e] == Approx(f.curve[e]).epsilon(2e-2));
  const auto pf = f.model->named_parameters();
  for (const auto& item : a.model->named_parameters()) {
    INFO(item.key());
    CHECK(item.value().scalar_type() == torch::kFloat);  // master weights stay float32
    CHECK(max_abs(item.value() - pf[item.key()]) <= 2e-2);
  }
}

TEST_CASE("bf16 VAE training needs the manual CPU step", "[models][vae]") {
  CHECK_THROWS_AS(train(VaeBackward::kAutograd, VaePrecision::kBFloat16, 1, 16), opsbench::ConfigError);
}

#endif  // OPSBENCH_HAVE_TORCH
