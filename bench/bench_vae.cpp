// VAE training epoch (the Refine/Prodigy model) on 5,000 x 2,000 uniform rows, batch 256: the shape
// the Refine issue fixes for the comparison with PyTorch 1.13 eager (bench/peers/torch_vae_epoch.py,
// run side by side by bench/peers/compare_vae.sh).
//
// Each iteration fits `vae:epochs=4` and reports the median of epochs 2-4 through manual time
// (vae.epoch_time.median covers all 4; the first epoch, which allocates, is reported as a counter).
// Time outside the epochs (table -> tensor, the threshold pass) is excluded, as in the peer.
#include <benchmark/benchmark.h>

#include <random>

#include "opsbench/core/context.h"
#include "opsbench/core/registry.h"
#include "opsbench/models/register.h"

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

}  // namespace
