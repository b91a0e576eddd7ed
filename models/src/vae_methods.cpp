// Registration of the VAE family (vae = prodigy, refine) and the single-training VAE detector.
#include "methods.h"
#include "vae_methods.h"

#ifdef OPSBENCH_HAVE_TORCH
#include <algorithm>
#include <chrono>

#include "opsbench/core/error.h"
#include "opsbench/core/statistics.h"
#include "vae.h"

namespace {
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
}  // namespace
#endif

namespace opsbench::models {

std::vector<OptionDecl> vae_declarations() {
  return {
      OptionDecl::integer("epochs", 100, 1, 100000, "training epochs (refine: N, the epochs of each full training)"),
      OptionDecl::integer("batch_size", 256, 1, 1 << 20, "rows per batch (contiguous slices of the shuffled tensor)"),
      OptionDecl::real("lr", 1e-4, 1e-8, 1.0, "Adam learning rate"),
      OptionDecl::real("clip", 0.5, 0.0, 1e6, "gradient clipping: max total L2 norm; 0 = off"),
      OptionDecl::real("beta", 1.0, 0.0, 1e6, "weight of the KL term in the loss"),
      OptionDecl::integer("hidden", 0, 0, 1 << 20, "hidden width; 0 = d/2"),
      OptionDecl::integer("latent", 0, 0, 1 << 20, "latent width; 0 = d/3"),
  };
}

#ifdef OPSBENCH_HAVE_TORCH
namespace {

torch::Device device_of(const Context& ctx) {
  return ctx.device == Device::kCuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

// vae / prodigy: one training on every training row.
class VaeDetector : public Detector {
 public:
  explicit VaeDetector(const Options& o) {
    config_.epochs = static_cast<int>(o.get_int("epochs"));
    config_.batch_size = static_cast<int>(o.get_int("batch_size"));
    config_.learning_rate = o.get_double("lr");
    config_.clip = o.get_double("clip");
    config_.beta = o.get_double("beta");
    hidden_ = o.get_int("hidden");
    latent_ = o.get_int("latent");
  }

  void fit(const Table& train, const Context& ctx) override {
    const Matrix x = train.to_matrix();
    if (x.rows == 0 || x.cols == 0) throw DataError("vae: the training table is empty");
    device_ = device_of(ctx);
    const torch::Tensor t = to_tensor(x, device_);
    model_ = make_vae(static_cast<std::int64_t>(x.cols), hidden_, latent_, ctx.seed, device_);
    config_.seed = ctx.seed + 1;
    const auto start = std::chrono::steady_clock::now();
    epoch_seconds_.clear();
    curve_ = train_vae(model_, t, config_, &epoch_seconds_);
    train_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    threshold_ = percentile_linear(reconstruction_mae(model_, t), 99.0);
  }

  std::vector<double> score(const Table& rows, const Context& /*ctx*/) const override {
    if (!model_) throw ModelError("vae: score() before fit()");
    return reconstruction_mae(model_, to_tensor(rows.to_matrix(), device_));
  }

  std::size_t model_size_bytes() const override { return model_ ? parameter_bytes(model_) : 0; }

  std::vector<Figure> diagnostics() const override {
    std::vector<Figure> out;
    out.push_back({"vae.epochs", static_cast<double>(curve_.size()), "epochs", "option", true, ""});
    out.push_back({"vae.final_train_mae", curve_.empty() ? 0.0 : curve_.back(), "MAE",
                   "mean training reconstruction MAE of the last epoch", true, ""});
    out.push_back({"vae.threshold_p99", threshold_, "MAE", "99th percentile of training-row MAE (eval mode)", true, ""});
    out.push_back({"vae.train_time", train_seconds_, "s", "steady_clock", true, ""});
    if (!epoch_seconds_.empty()) {
      out.push_back({"vae.epoch_time.median", median(epoch_seconds_), "s", "steady_clock per epoch, median", true, ""});
      out.push_back({"vae.epoch_time.first", epoch_seconds_.front(), "s", "steady_clock, first epoch (warm-up)", true, ""});
    }
    return out;
  }

 private:
  VaeTrainConfig config_;
  std::int64_t hidden_ = 0, latent_ = 0;
  torch::Device device_ = torch::kCPU;
  mutable Vae model_{nullptr};  // forward() is non-const in libtorch; scoring does not change it
  std::vector<double> curve_, epoch_seconds_;
  double threshold_ = 0, train_seconds_ = 0;
};

}  // namespace

std::unique_ptr<Detector> make_vae_detector(const Options& options) { return std::make_unique<VaeDetector>(options); }
#endif

void add_vae_methods(Registry& registry) {
#ifdef OPSBENCH_HAVE_TORCH
  for (const char* name : {"vae", "prodigy"}) {
    MethodEntry e;
    e.name = name;
    e.kind = MethodKind::kDetector;
    e.description = std::string(name) == "vae"
                        ? "variational autoencoder (d -> d/2 -> d/3 latent, mirrored, sigmoid); score = reconstruction MAE"
                        : "Prodigy: the Refine paper's VAE trained once on all training rows (same model as vae)";
    e.reference = "Aksar et al., Prodigy (SC'23); Refine (seed 004) Sec. III";
    e.options = vae_declarations();
    e.make_detector = make_vae_detector;
    registry.add(std::move(e));
  }
  MethodEntry r;
  r.name = "refine";
  r.kind = MethodKind::kDetector;
  r.description =
      "Refine: VAE trained iteratively, dropping training rows above the 95th-percentile error after retraining to "
      "the knee (Kneedle) of the loss curve; per-iteration lineage in diagnostics";
  r.reference = "Refine (seed 004), Algorithm 1; Satopaa et al. 2011 (Kneedle)";
  r.options = refine_declarations();
  r.make_detector = make_refine_detector;
  registry.add(std::move(r));
#else
  (void)registry;
#endif
}

}  // namespace opsbench::models
