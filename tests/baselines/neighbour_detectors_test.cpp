// lof, knn, hbos, ecod and the exact neighbour search under them: agreement with scikit-learn
// 1.2.1 (and PyOD's formulas) on small fixed inputs, exactness against brute force, bad input.
// Reference values: tests/reference/make_neighbour_refs.py (scikit-learn 1.2.1, scipy 1.10.1).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "opsbench/baselines/ecod.h"
#include "opsbench/baselines/hbos.h"
#include "opsbench/baselines/knn_detector.h"
#include "opsbench/baselines/lof.h"
#include "opsbench/baselines/neighbour_search.h"
#include "opsbench/core/error.h"

namespace {

using namespace opsbench;

Matrix train_rows() {
  Matrix x(30, 3);
  for (std::size_t i = 0; i < 30; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      x(i, j) = std::sin(0.7 * i + 1.3 * j) * (1.0 + j) + (i % 7 == 0 ? 3.0 : 0.0);
  for (std::size_t i = 20; i < 25; ++i)
    for (std::size_t j = 0; j < 3; ++j) x(i, j) = x(3, j);
  return x;
}

Matrix test_rows() {
  Matrix x(8, 3);
  for (std::size_t i = 0; i < 8; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      x(i, j) = std::cos(0.45 * i + 0.8 * j) * (2.0 - 0.5 * j) + (j == 1 ? 0.25 * i : 0.0);
  return x;
}

void check_close(const std::vector<double>& ours, const std::vector<double>& ref, double rel = 1e-9) {
  REQUIRE(ours.size() == ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) {
    INFO("row " << i);
    CHECK(ours[i] == Approx(ref[i]).epsilon(rel).margin(1e-12));
  }
}

LofOptions lof_options(int k, bool novelty) {
  LofOptions o;
  o.n_neighbors = k;
  o.novelty = novelty;
  return o;
}

// Brute-force reference: (distance, index) order, exact float64.
std::vector<std::pair<double, int>> brute(const Matrix& train, const double* q, std::size_t k, long self) {
  std::vector<std::pair<double, int>> all;
  for (std::size_t t = 0; t < train.rows; ++t) {
    if (static_cast<long>(t) == self) continue;
    double s = 0;
    for (std::size_t j = 0; j < train.cols; ++j) s += (q[j] - train(t, j)) * (q[j] - train(t, j));
    all.emplace_back(std::sqrt(s), static_cast<int>(t));
  }
  std::sort(all.begin(), all.end());
  all.resize(k);
  return all;
}

}  // namespace

TEST_CASE("lof outlier mode matches scikit-learn's negative_outlier_factor_", "[baselines][lof]") {
  // scikit-learn 1.2.1: -LocalOutlierFactor(n_neighbors=k).fit(train).negative_outlier_factor_
  const std::vector<double> k3{1.1776177860614288, 1.0694187924613183, 4991998478.714213, 1.0, 4734818331.991088,
                               1.291613766565798,  1.2664220146266016, 1.1249124907959542, 1.0073342511578043,
                               1.078127301464353,  1.1090969313425776, 4991998478.714213, 335629591.63707566,
                               4775876780.600436,  1.795125780827745,  1.2525676454757175, 1.0062023131854003,
                               0.9972771064935079, 1.078127301464353,  1.1090969313425776, 1.0, 1.0, 1.0, 1.0, 1.0,
                               0.995206626511879,  0.9972771064935079, 1.078127301464353,  1.1341404550332548,
                               4991998478.714213};
  const std::vector<double> k8{
      1.7495561231644585, 1.1184306600272478, 1.064437029927063,  0.9969152397227837, 1.0011990498226802,
      1.7576035789008047, 1.0996031362809124, 1.5540807797340603, 0.9870596726385137, 1.024552942560066,
      1.1108812937076564, 1.0441205183746405, 1.0003929277604133, 1.0130768980416072, 1.3499215749720466,
      1.0934852524120897, 1.0945028785781838, 0.9861278549230329, 1.0272916930740834, 1.0968875525837474,
      0.9969152397227837, 0.9969152397227837, 0.9969152397227837, 0.9969152397227837, 0.9969152397227837,
      1.0935108922442138, 0.9852126323134944, 1.0300521431360028, 1.7449445839764575, 1.003829397868494};
  Context ctx;
  // k = 3 is below the six copies of row 3 (their lrd is 1e10), k = 8 above them.
  Lof three(lof_options(3, false));
  three.fit_matrix(train_rows(), ctx);
  check_close(three.training_outlier_factors(), k3, 1e-7);
  Lof eight(lof_options(8, false));
  eight.fit_matrix(train_rows(), ctx);
  check_close(eight.training_outlier_factors(), k8);
  // Outlier mode scores the given rows among themselves.
  check_close(eight.score_matrix(train_rows(), ctx), k8);
}

TEST_CASE("lof novelty mode matches scikit-learn's score_samples", "[baselines][lof]") {
  // scikit-learn 1.2.1: -LocalOutlierFactor(n_neighbors=k, novelty=True).fit(train).score_samples(test)
  const std::vector<double> k3{1.0, 1.0, 1.0544808848907732, 1.1297128172999151, 1.3302287868411822,
                               1.2798445397889038, 1.354409110191792, 1.683406005604682};
  const std::vector<double> k8{1.3144329330512092, 1.2139795846012282, 1.2141961522917368, 1.180582793779193,
                               1.377588437260961,  1.4119779702078126, 1.2894716890661098, 1.2421161275474648};
  Context ctx;
  Lof three(lof_options(3, true));
  three.fit_matrix(train_rows(), ctx);
  check_close(three.score_matrix(test_rows(), ctx), k3);
  Lof eight(lof_options(8, true));
  eight.fit_matrix(train_rows(), ctx);
  check_close(eight.score_matrix(test_rows(), ctx), k8);
}

TEST_CASE("knn distances match scikit-learn's NearestNeighbors", "[baselines][knn]") {
  // scikit-learn 1.2.1: NearestNeighbors(n_neighbors=5).fit(train).kneighbors(test)[0]: last column, mean.
  const std::vector<double> largest{2.4985988358985143, 2.0158580145496865, 1.6493825031627711, 1.943045491828148,
                                    2.2578196898913676, 2.6272624920822523, 3.0020955347747567, 2.807973445644634};
  const std::vector<double> mean{1.965471720685055, 1.746448498340262,  1.6171823115916446, 1.7875414790059256,
                                 2.078424201249355, 2.4712769379859116, 2.7479471307216503, 2.784559786598274};
  Context ctx;
  KnnDetectorOptions o;
  o.n_neighbors = 5;
  KnnDetector knn(o);
  knn.fit_matrix(train_rows(), ctx);
  check_close(knn.score_matrix(test_rows(), ctx), largest);
  o.method = "mean";
  KnnDetector by_mean(o);
  by_mean.fit_matrix(train_rows(), ctx);
  check_close(by_mean.score_matrix(test_rows(), ctx), mean);
}

TEST_CASE("hbos and ecod match PyOD's formulas", "[baselines][hbos][ecod]") {
  // NumPy transcriptions of PyOD 1.0 (tests/reference/make_neighbour_refs.py).
  const std::vector<double> hbos_ref{7.227543966631677, 8.069230545449356, 6.41598829424073,  3.193830186388636,
                                     5.4425446750261735, 6.2208646489612835, 8.069230545449356, 9.398497646208755};
  const std::vector<double> ecod_ref{3.4195241424575915, 3.2138417273399154, 3.1671977601281367,
                                     2.0119211288065255, 2.1638255908135706, 3.0755796745848882,
                                     3.1062860375314423, 3.1062860375314423};
  Context ctx;
  Hbos hbos;
  hbos.fit_matrix(train_rows(), ctx);
  check_close(hbos.score_matrix(test_rows(), ctx), hbos_ref);
  Ecod ecod;
  ecod.fit_matrix(train_rows(), ctx);
  check_close(ecod.score_matrix(test_rows(), ctx), ecod_ref);
}

TEST_CASE("neighbour search is exact on ties, duplicates and offset data", "[baselines][lof][knn]") {
  std::mt19937_64 engine(11);
  std::uniform_int_distribution<int> grid(0, 3);
  for (const double offset : {0.0, 1e7}) {
    // Integer grid values: many exact ties and duplicates. The offset makes |a|^2 + |b|^2 - 2ab
    // cancel catastrophically in float32, so the screening must fall back or re-rank exactly.
    Matrix x(700, 4);
    for (auto& v : x.data) v = grid(engine) + offset;
    NeighbourIndex index;
    index.fit(x);
    for (const bool self : {true, false}) {
      const Neighbours nb = index.query(x, 7, self, 2);
      for (std::size_t r = 0; r < x.rows; r += 13) {
        const auto want = brute(x, x.row(r), 7, self ? static_cast<long>(r) : -1);
        for (std::size_t c = 0; c < 7; ++c) {
          INFO("offset " << offset << " row " << r << " rank " << c);
          CHECK(nb.index_row(r)[c] == want[c].second);
          CHECK(nb.distance_row(r)[c] == want[c].first);
        }
      }
    }
  }
}

TEST_CASE("neighbour search on continuous data agrees with brute force and ignores threads", "[baselines][knn]") {
  std::mt19937_64 engine(5);
  std::normal_distribution<double> normal;
  Matrix train(1500, 9), queries(300, 9);
  for (auto& v : train.data) v = normal(engine);
  for (auto& v : queries.data) v = 2 * normal(engine);
  NeighbourIndex index;
  index.fit(train);
  const Neighbours one = index.query(queries, 20, false, 1);
  const Neighbours two = index.query(queries, 20, false, 2);
  CHECK(one.indices == two.indices);
  CHECK(one.distances == two.distances);
  CHECK(one.fallback_rows == 0);  // well-separated data never needs the exact scan
  for (std::size_t r = 0; r < queries.rows; r += 7) {
    const auto want = brute(train, queries.row(r), 20, -1);
    for (std::size_t c = 0; c < 20; ++c) CHECK(one.index_row(r)[c] == want[c].second);
  }
}

TEST_CASE("neighbour detectors: declared behaviour on bad input", "[baselines][lof][knn][hbos][ecod]") {
  Context ctx;
  Matrix bad = train_rows();
  bad(4, 1) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(Lof().fit_matrix(bad, ctx), DataError);
  CHECK_THROWS_AS(KnnDetector().fit_matrix(bad, ctx), DataError);
  CHECK_THROWS_AS(Hbos().fit_matrix(bad, ctx), DataError);
  CHECK_THROWS_AS(Ecod().fit_matrix(bad, ctx), DataError);
  bad(4, 1) = std::nan("");
  CHECK_THROWS_AS(Lof().fit_matrix(bad, ctx), DataError);
  Lof fitted;
  fitted.fit_matrix(train_rows(), ctx);
  CHECK_THROWS_AS(fitted.score_matrix(bad, ctx), DataError);
  CHECK_THROWS_AS(fitted.score_matrix(Matrix(2, 5), ctx), DataError);
  CHECK_THROWS_AS(Lof().score_matrix(train_rows(), ctx), ModelError);

  // Fewer rows than k: k is capped at n - 1 (lof) / n (knn), as scikit-learn does, and reported.
  Matrix few(4, 2);
  for (std::size_t i = 0; i < few.data.size(); ++i) few.data[i] = static_cast<double>(i * i % 5);
  Lof lof(lof_options(20, true));
  lof.fit_matrix(few, ctx);
  CHECK(lof.effective_neighbors() == 3);
  CHECK(lof.diagnostic_info().at("lof.n_neighbors") == "3");
  KnnDetector knn;
  knn.fit_matrix(few, ctx);
  CHECK(knn.diagnostic_info().at("knn.n_neighbors") == "4");
  CHECK_THROWS_AS(Lof().fit_matrix(Matrix(1, 2), ctx), DataError);

  // All rows identical (and constant columns): every LOF is 1, HBOS and ECOD are equal for all rows.
  Matrix same(50, 3, 2.5);
  Lof flat(lof_options(10, false));
  flat.fit_matrix(same, ctx);
  for (const double s : flat.training_outlier_factors()) CHECK(s == 1.0);
  Hbos hbos;
  hbos.fit_matrix(same, ctx);
  const auto h = hbos.score_matrix(same, ctx);
  CHECK(std::adjacent_find(h.begin(), h.end(), std::not_equal_to<>()) == h.end());
  Matrix moved = same;
  moved(0, 0) = 40.0;  // far outside the constant column's widened bin
  CHECK(hbos.score_matrix(moved, ctx)[0] > h[0]);
  Ecod ecod;
  ecod.fit_matrix(same, ctx);
  CHECK(std::isfinite(ecod.score_matrix(moved, ctx)[0]));
}
