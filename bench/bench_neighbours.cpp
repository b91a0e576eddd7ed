// Micro-benchmarks of the neighbour- and per-feature detectors, on the shapes of the scikit-learn
// peer script (bench/peers/sklearn_neighbours.py), so both print comparable medians:
//   lof fit (outlier mode: every training row's k nearest and its LOF), 50k x 20, k = 20
//   lof novelty score of 10k new rows against 50k x 20, k = 20
//   knn (k = 5, largest) score 10k rows against 50k x 20
//   hbos and ecod fit + score on 100k x 20
// Every benchmark takes (rows, cols, threads); threads is the Context's thread count. Wall time
// (UseRealTime); items processed = scored rows. Standard normal data, seed 42.
//
// Never include Catch2 here: it and Google Benchmark both define BENCHMARK.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>

#include "opsbench/baselines/ecod.h"
#include "opsbench/baselines/hbos.h"
#include "opsbench/baselines/knn_detector.h"
#include "opsbench/baselines/lof.h"

namespace {

using opsbench::Context;
using opsbench::Matrix;

const Matrix& random_matrix(std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
  static std::map<std::tuple<std::int64_t, std::int64_t, std::uint64_t>, Matrix> cache;
  const auto key = std::make_tuple(rows, cols, seed);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  Matrix m(static_cast<std::size_t>(rows), static_cast<std::size_t>(cols));
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal;
  for (auto& v : m.data) v = normal(engine);
  return cache.emplace(key, std::move(m)).first->second;
}

Context context(const benchmark::State& state) {
  Context ctx;
  ctx.seed = 1;
  ctx.threads = static_cast<int>(state.range(2));
  return ctx;
}

constexpr std::int64_t kQueries = 10000;

void BM_LofFit(benchmark::State& state) {
  const Matrix& x = random_matrix(state.range(0), state.range(1), 42);
  const Context ctx = context(state);
  opsbench::LofOptions o;
  o.n_neighbors = 20;
  o.novelty = false;
  for (auto _ : state) {
    opsbench::Lof lof(o);
    lof.fit_matrix(x, ctx);
    benchmark::DoNotOptimize(lof.training_outlier_factors().data());
    state.counters["fallback_rows"] = std::stod(lof.diagnostic_info().at("lof.exact_fallback_rows"));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_LofNoveltyScore(benchmark::State& state) {
  const Matrix& x = random_matrix(state.range(0), state.range(1), 42);
  const Matrix& q = random_matrix(kQueries, state.range(1), 43);
  const Context ctx = context(state);
  opsbench::Lof lof;
  lof.fit_matrix(x, ctx);
  for (auto _ : state) benchmark::DoNotOptimize(lof.score_matrix(q, ctx));
  state.SetItemsProcessed(state.iterations() * kQueries);
}

void BM_KnnScore(benchmark::State& state) {
  const Matrix& x = random_matrix(state.range(0), state.range(1), 42);
  const Matrix& q = random_matrix(kQueries, state.range(1), 43);
  const Context ctx = context(state);
  opsbench::KnnDetector knn;
  knn.fit_matrix(x, ctx);
  for (auto _ : state) benchmark::DoNotOptimize(knn.score_matrix(q, ctx));
  state.SetItemsProcessed(state.iterations() * kQueries);
}

template <typename Detector>
void BM_FitScore(benchmark::State& state) {
  const Matrix& x = random_matrix(state.range(0), state.range(1), 42);
  const Context ctx = context(state);
  for (auto _ : state) {
    Detector detector;
    detector.fit_matrix(x, ctx);
    benchmark::DoNotOptimize(detector.score_matrix(x, ctx));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void shapes(benchmark::internal::Benchmark* b, std::int64_t rows) {
  b->ArgNames({"rows", "cols", "threads"})->UseRealTime()->Unit(benchmark::kMillisecond);
  b->Args({rows, 20, 1})->Args({rows, 20, 2});
}

}  // namespace

BENCHMARK(BM_LofFit)->Apply([](benchmark::internal::Benchmark* b) { shapes(b, 50000); });
BENCHMARK(BM_LofNoveltyScore)->Apply([](benchmark::internal::Benchmark* b) { shapes(b, 50000); });
BENCHMARK(BM_KnnScore)->Apply([](benchmark::internal::Benchmark* b) { shapes(b, 50000); });
BENCHMARK_TEMPLATE(BM_FitScore, opsbench::Hbos)->Apply([](benchmark::internal::Benchmark* b) { shapes(b, 100000); });
BENCHMARK_TEMPLATE(BM_FitScore, opsbench::Ecod)->Apply([](benchmark::internal::Benchmark* b) { shapes(b, 100000); });
