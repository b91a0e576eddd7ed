// Micro-benchmarks of the supervised classifiers on the shape of the speed targets, with
// the data of bench/peers/sklearn_classifiers.py (the same SplitMix64 formula, so both sides fit
// identical rows): 100k x 12, 6 classes (a band rule on three features, 20% of labels redrawn).
//   forest fit (100 trees, sqrt features), tree fit (fully grown), xgboost fit (hist, 100 rounds,
//   depth 6), logreg fit; and forest predict_proba on 20k rows.
// Arguments: (rows, threads). Wall time is what counts (UseRealTime).
// Compare with the peer only under identical thread settings (bench/peers/compare_classifiers.sh).
//
// Never include Catch2 here: it and Google Benchmark both define BENCHMARK.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <vector>

#include "opsbench/baselines/decision_tree.h"
#include "opsbench/baselines/logistic_regression.h"
#include "opsbench/baselines/random_forest.h"
#include "opsbench/baselines/xgboost_classifier.h"
#include "opsbench/core/metrics.h"

namespace {

using opsbench::Context;
using opsbench::Matrix;

constexpr std::size_t kCols = 12;
constexpr int kClasses = 6;

std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
// Draw k of row r: SplitMix64 output number r * 16 + k + 1 of seed 42 (vectorised in the peer).
double draw(std::size_t r, std::size_t k) {
  return static_cast<double>(mix(42 + (r * 16 + k + 1) * 0x9e3779b97f4a7c15ULL) >> 11) * 0x1.0p-53;
}

struct Data {
  Matrix x;
  std::vector<int> y;
};

// Rows first..first+n of the formula (the hold-out is rows 100000..119999, as in the peer).
Data make_rows(std::size_t first, std::size_t n);

const Data& data(std::int64_t rows) {
  static std::map<std::int64_t, Data> cache;
  auto it = cache.find(rows);
  if (it != cache.end()) return it->second;
  return cache.emplace(rows, make_rows(0, static_cast<std::size_t>(rows))).first->second;
}

Data make_rows(std::size_t first, std::size_t n) {
  Data d;
  d.x = Matrix(n, kCols);
  d.y.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t r = first + i;
    for (std::size_t c = 0; c < kCols; ++c) d.x(i, c) = draw(r, c);
    const double s = d.x(i, 0) + 0.7 * d.x(i, 1) + 0.3 * d.x(i, 2) * d.x(i, 3);
    d.y[i] = static_cast<int>(s * 3.0) % kClasses;
    if (draw(r, 12) < 0.2) d.y[i] = static_cast<int>(draw(r, 13) * kClasses);
  }
  return d;
}


Context context(const benchmark::State& state) {
  Context ctx;
  ctx.seed = 1;
  ctx.threads = static_cast<int>(state.range(1));
  return ctx;
}

// OvR macro AUC on the 20k hold-out: the quality the peer prints next to its time.
template <typename Model>
void report_auc(benchmark::State& state, const Model& model) {
  static const Data holdout = make_rows(100000, 20000);
  state.counters["holdout_auc"] =
      opsbench::roc_auc_ovr(holdout.y, model.predict_proba_matrix(holdout.x, context(state)), opsbench::Average::kMacro);
}

void BM_ForestFit(benchmark::State& state) {
  const Data& d = data(state.range(0));
  opsbench::RandomForestOptions o;
  o.n_estimators = 100;
  for (auto _ : state) {
    opsbench::RandomForest forest(o);
    forest.fit_matrix(d.x, d.y, kClasses, context(state));
    benchmark::DoNotOptimize(forest.model_size_bytes());
    state.PauseTiming();
    report_auc(state, forest);
    state.ResumeTiming();
  }
}

void BM_ForestPredict(benchmark::State& state) {
  const Data& d = data(state.range(0));
  const Data& t = data(20000);
  opsbench::RandomForestOptions o;
  o.n_estimators = 100;
  opsbench::RandomForest forest(o);
  forest.fit_matrix(d.x, d.y, kClasses, context(state));
  for (auto _ : state) benchmark::DoNotOptimize(forest.predict_proba_matrix(t.x, context(state)));
}

void BM_TreeFit(benchmark::State& state) {
  const Data& d = data(state.range(0));
  for (auto _ : state) {
    opsbench::DecisionTree tree;
    tree.fit_matrix(d.x, d.y, kClasses, context(state));
    benchmark::DoNotOptimize(tree.model_size_bytes());
  }
}

void BM_XgboostFit(benchmark::State& state) {
  const Data& d = data(state.range(0));
  opsbench::XgboostOptions o;
  o.n_estimators = 100;
  o.max_depth = 6;
  for (auto _ : state) {
    opsbench::XgboostClassifier model(o);
    model.fit_matrix(d.x, d.y, kClasses, context(state));
    state.PauseTiming();
    report_auc(state, model);
    state.ResumeTiming();
  }
}

void BM_LogregFit(benchmark::State& state) {
  const Data& d = data(state.range(0));
  for (auto _ : state) {
    opsbench::LogisticRegression lr;
    lr.fit_matrix(d.x, d.y, kClasses, context(state));
    benchmark::DoNotOptimize(lr.coefficients().data());
  }
}

}  // namespace

BENCHMARK(BM_ForestFit)->ArgNames({"rows", "threads"})->Args({100000, 1})->Args({100000, 2})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ForestPredict)->ArgNames({"rows", "threads"})->Args({100000, 2})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TreeFit)->ArgNames({"rows", "threads"})->Args({100000, 1})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_XgboostFit)->ArgNames({"rows", "threads"})->Args({100000, 1})->Args({100000, 2})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LogregFit)->ArgNames({"rows", "threads"})->Args({100000, 1})->UseRealTime()->Unit(benchmark::kMillisecond);
