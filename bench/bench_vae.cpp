// VAE training epoch (the Refine/Prodigy model) on 5,000 x 2,000 uniform rows, batch 256: the shape
// the Refine issue fixes for the comparison with PyTorch 1.13 eager (bench/peers/torch_vae_epoch.py,
// run side by side by bench/peers/compare_vae.sh).
//
// Each iteration fits `vae:epochs=4` and reports the median of epochs 2-4 through manual time
// (vae.epoch_time.median covers all 4; the first epoch, which allocates, is reported as a counter).
// Time outside the epochs (table -> tensor, the threshold pass) is excluded, as in the peer.
//
// BM_VaeEpochStep calls train_vae directly (the same rows) to compare, in one run, the hand-written
// step (vae_kernels.h) with autograd and the opt-in bf16 mixed precision with float32:
// Args({threads, mode}), mode 0 = manual float32 (what `vae` runs), 1 = autograd float32,
// 2 = manual bf16. Manual time = median of epochs 2-4.
#include <benchmark/benchmark.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <random>

#include "opsbench/core/context.h"
#include "opsbench/core/registry.h"
#include "opsbench/models/register.h"
#include "vae.h"

namespace {

opsbench::Table uniform_table(std::size_t rows, std::size_t cols) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  opsbench::Table t;
  for (std::size_t c = 0; c < cols; ++c) {
    std::vector<double> v(rows);
    for (auto& x : v) x = u(rng);
    t.add_column(opsbench::Column::numeric("f" + std::to_string(c), std::move(v)));
  }
  return t;
}

void BM_VaeEpoch(benchmark::State& state) {
  static const opsbench::Table table = uniform_table(5000, 2000);
  opsbench::Registry registry;
  opsbench::register_models(registry);
  const auto method = registry.resolve_method("vae:epochs=4,batch_size=256");
  opsbench::Context ctx;
  ctx.seed = 1;
  ctx.threads = static_cast<int>(state.range(0));
  double first = 0;
  for (auto _ : state) {
    ctx.apply();
    auto detector = method.entry->make_detector(method.options);
    detector->fit(table, ctx);
    for (const auto& f : detector->diagnostics()) {
      if (f.name == "vae.epoch_time.median") state.SetIterationTime(f.value);
      if (f.name == "vae.epoch_time.first") first = f.value;
    }
  }
  state.counters["first_epoch_s"] = first;
  state.counters["threads"] = static_cast<double>(ctx.threads);
}
BENCHMARK(BM_VaeEpoch)->Arg(1)->Arg(2)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);

// The rows of uniform_table(5000, 2000) as a float32 tensor (same generator, column by column).
torch::Tensor uniform_tensor(std::int64_t rows, std::int64_t cols) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  torch::Tensor t = torch::empty({rows, cols}, torch::kFloat);
  float* p = t.data_ptr<float>();
  for (std::int64_t c = 0; c < cols; ++c) {
    for (std::int64_t r = 0; r < rows; ++r) p[r * cols + c] = static_cast<float>(u(rng));
  }
  return t;
}

void BM_VaeEpochStep(benchmark::State& state) {
  namespace m = opsbench::models;
  static const torch::Tensor x = uniform_tensor(5000, 2000);
  const int threads = static_cast<int>(state.range(0));
  const auto mode = state.range(1);
  at::set_num_threads(threads);
  m::VaeTrainConfig config;
  config.epochs = 4;
  config.batch_size = 256;
  config.seed = 1;
  config.backward = mode == 1 ? m::VaeBackward::kAutograd : m::VaeBackward::kManual;
  config.precision = mode == 2 ? m::VaePrecision::kBFloat16 : m::VaePrecision::kFloat32;
  double first = 0, last_mae = 0;
  for (auto _ : state) {
    m::Vae model = m::make_vae(x.size(1), 0, 0, 1, torch::kCPU);
    std::vector<double> seconds;
    last_mae = m::train_vae(model, x, config, &seconds).back();
    first = seconds.front();
    std::vector<double> rest(seconds.begin() + 1, seconds.end());
    std::nth_element(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(rest.size() / 2), rest.end());
    state.SetIterationTime(rest[rest.size() / 2]);
  }
  state.SetLabel(mode == 0 ? "manual f32" : mode == 1 ? "autograd f32" : "manual bf16");
  state.counters["first_epoch_s"] = first;
  state.counters["train_mae_epoch4"] = last_mae;
  state.counters["threads"] = threads;
}
BENCHMARK(BM_VaeEpochStep)
    ->ArgsProduct({{1, 2}, {0, 1, 2}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

}  // namespace
