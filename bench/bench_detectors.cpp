// Micro-benchmarks of the classical detectors, on the shapes of the scikit-learn peer script
// (bench/peers/sklearn_detectors.py) so the two print comparable medians:
//   iforest fit, score and fit+score on 100k x 20; iforest score on 20k x 2000;
//   pca fit and score on 100k x 20.
// Every benchmark takes (rows, cols, threads); threads is the Context's thread count. Items
// processed = rows, so the reports show rows/s of wall time (UseRealTime); the CPU column is the
// whole process' CPU time (MeasureProcessCPUTime), i.e. summed over the worker threads.
//
// Larger or extra shapes: OPSBENCH_BENCH_SHAPES="ROWSxCOLS[,ROWSxCOLS...]" registers every family
// again on those shapes, with 1 thread and with every hardware thread, e.g.
//   OPSBENCH_BENCH_SHAPES=1000000x20,50000x4000 build/release/bench/bench_detectors
// Compare with the peers only under identical thread settings (OMP_NUM_THREADS, OPENBLAS_CORETYPE).
//
// Never include Catch2 here: it and Google Benchmark both define BENCHMARK.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "opsbench/baselines/isolation_forest.h"
#include "opsbench/baselines/pca_detector.h"

namespace {

using opsbench::Context;
using opsbench::Matrix;

// Standard normal data, cached per shape so setup is not paid per benchmark.
const Matrix& random_matrix(std::int64_t rows, std::int64_t cols) {
  static std::map<std::pair<std::int64_t, std::int64_t>, Matrix> cache;
  auto it = cache.find({rows, cols});
  if (it != cache.end()) return it->second;
  Matrix m(static_cast<std::size_t>(rows), static_cast<std::size_t>(cols));
  std::mt19937_64 engine(42);
  std::normal_distribution<double> normal;
  for (auto& v : m.data) v = normal(engine);
  return cache.emplace(std::make_pair(rows, cols), std::move(m)).first->second;
}

Context context(const benchmark::State& state) {
  Context ctx;
  ctx.seed = 1;
  ctx.threads = static_cast<int>(state.range(2));
  return ctx;
}

void finish(benchmark::State& state, std::size_t model_bytes) {
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["model_bytes"] = static_cast<double>(model_bytes);
}

void BM_IForestFit(benchmark::State& state) {
  const Matrix& x = random_matrix(state.range(0), state.range(1));
  const Context ctx = context(state);
  opsbench::IsolationForest forest;
  for (auto _ : state) forest.fit_matrix(x, ctx);
  finish(state, forest.model_size_bytes());
}

void BM_IForestScore(benchmark::State& state) {
  const Matrix& x = random_matrix(state.range(0), state.range(1));
  const Context ctx = context(state);
  opsbench::IsolationForest forest;
  forest.fit_matrix(x, ctx);
  for (auto _ : state) benchmark::DoNotOptimize(forest.score_matrix(x, ctx));
  finish(state, forest.model_size_bytes());
}

void BM_IForestFitScore(benchmark::State& state) {
  const Matrix& x = random_matrix(state.range(0), state.range(1));
  const Context ctx = context(state);
  opsbench::IsolationForest forest;
  for (auto _ : state) {
    forest.fit_matrix(x, ctx);
    benchmark::DoNotOptimize(forest.score_matrix(x, ctx));
  }
  finish(state, forest.model_size_bytes());
}

void BM_PcaFit(benchmark::State& state) {
  const Matrix& x = random_matrix(state.range(0), state.range(1));
  const Context ctx = context(state);
  opsbench::PcaDetector pca;
  for (auto _ : state) pca.fit_matrix(x, ctx);
  finish(state, pca.model_size_bytes());
}

void BM_PcaScore(benchmark::State& state) {
  const Matrix& x = random_matrix(state.range(0), state.range(1));
  const Context ctx = context(state);
  opsbench::PcaDetector pca;
  pca.fit_matrix(x, ctx);
  for (auto _ : state) benchmark::DoNotOptimize(pca.score_matrix(x, ctx));
  finish(state, pca.model_size_bytes());
}

void BM_PcaFitScore(benchmark::State& state) {
  const Matrix& x = random_matrix(state.range(0), state.range(1));
  const Context ctx = context(state);
  opsbench::PcaDetector pca;
  for (auto _ : state) {
    pca.fit_matrix(x, ctx);
    benchmark::DoNotOptimize(pca.score_matrix(x, ctx));
  }
  finish(state, pca.model_size_bytes());
}

constexpr std::int64_t kThreadsAll = 2;  // the default shapes run with 1 and 2 threads (CI machines)

BENCHMARK(BM_IForestFit)
    ->ArgNames({"rows", "cols", "threads"})
    ->Args({100000, 20, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK(BM_IForestScore)
    ->ArgNames({"rows", "cols", "threads"})
    ->Args({100000, 20, 1})
    ->Args({100000, 20, kThreadsAll})
    ->Args({20000, 2000, 1})
    ->Args({20000, 2000, kThreadsAll})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK(BM_IForestFitScore)
    ->ArgNames({"rows", "cols", "threads"})
    ->Args({100000, 20, 1})
    ->Args({100000, 20, kThreadsAll})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK(BM_PcaFit)
    ->ArgNames({"rows", "cols", "threads"})
    ->Args({100000, 20, 1})
    ->Args({100000, 20, kThreadsAll})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK(BM_PcaScore)
    ->ArgNames({"rows", "cols", "threads"})
    ->Args({100000, 20, 1})
    ->Args({100000, 20, kThreadsAll})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK(BM_PcaFitScore)
    ->ArgNames({"rows", "cols", "threads"})
    ->Args({100000, 20, 1})
    ->Args({100000, 20, kThreadsAll})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

// OPSBENCH_BENCH_SHAPES: extra shapes registered before main() runs the benchmarks.
const bool kExtraShapesRegistered = [] {
  const char* spec = std::getenv("OPSBENCH_BENCH_SHAPES");
  if (spec == nullptr) return false;
  const std::vector<std::pair<const char*, void (*)(benchmark::State&)>> families{
      {"BM_IForestFit", BM_IForestFit},
      {"BM_IForestScore", BM_IForestScore},
      {"BM_IForestFitScore", BM_IForestFitScore},
      {"BM_PcaFit", BM_PcaFit},
      {"BM_PcaScore", BM_PcaScore},
      {"BM_PcaFitScore", BM_PcaFitScore}};
  const auto hardware = static_cast<std::int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  std::stringstream shapes(spec);
  std::string shape;
  while (std::getline(shapes, shape, ',')) {
    const auto x = shape.find('x');
    if (x == std::string::npos) continue;
    const std::int64_t rows = std::atoll(shape.substr(0, x).c_str());
    const std::int64_t cols = std::atoll(shape.substr(x + 1).c_str());
    if (rows < 2 || cols < 1) continue;
    for (const auto& [name, fn] : families) {
      auto* b = benchmark::RegisterBenchmark(name, fn);
      b->ArgNames({"rows", "cols", "threads"})
          ->Args({rows, cols, 1})
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->MeasureProcessCPUTime();
      if (hardware > 1) b->Args({rows, cols, hardware});
    }
  }
  return true;
}();

}  // namespace
