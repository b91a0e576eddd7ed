// PCA reconstruction-error detector: exactness on a span and agreement with scikit-learn 1.2.1.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "opsbench/baselines/pca_detector.h"
#include "opsbench/core/error.h"
#include "opsbench/core/table.h"

namespace {

using opsbench::Context;
using opsbench::Matrix;
using opsbench::PcaDetector;
using opsbench::PcaDetectorOptions;

Matrix from_rows(const std::vector<std::vector<double>>& rows) {
  Matrix m(rows.size(), rows[0].size());
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < rows[r].size(); ++c) m(r, c) = rows[r][c];
  return m;
}

// The fixed 8 x 4 input of the scikit-learn reference.
Matrix reference_input() {
  return from_rows({{1.0, 2.0, 0.5, 10.0},
                    {2.0, 1.5, 0.7, 12.0},
                    {3.0, 3.5, 0.2, 9.0},
                    {4.0, 3.0, 0.9, 11.0},
                    {5.0, 6.0, 0.4, 15.0},
                    {6.0, 5.0, 0.1, 8.0},
                    {7.0, 7.5, 0.8, 13.0},
                    {8.0, 7.0, 0.3, 10.5}});
}

PcaDetectorOptions with_components(int k, bool standardize = true) {
  PcaDetectorOptions o;
  o.n_components = k;
  o.standardize = standardize;
  return o;
}

}  // namespace

TEST_CASE("pca scores rows in the span of the kept components ~0", "[baselines][pca]") {
  // Rank-2 data in 5-D: x = a * u + b * v + offset; with 2 components the residual vanishes.
  Matrix x(200, 5);
  const double u[5] = {1, 2, -1, 0.5, 3};
  const double v[5] = {0, 1, 1, -2, 0.25};
  for (std::size_t r = 0; r < 200; ++r) {
    const double a = std::sin(0.37 * r) * 3, b = std::cos(1.3 * r + 0.2);
    for (std::size_t c = 0; c < 5; ++c) x(r, c) = a * u[c] + b * v[c] + 10.0 * c;
  }
  PcaDetector pca(with_components(2));
  Context ctx;
  pca.fit_matrix(x, ctx);
  for (const double s : pca.score_matrix(x, ctx)) CHECK(std::abs(s) < 1e-12);
  Matrix off(1, 5);
  for (std::size_t c = 0; c < 5; ++c) off(0, c) = 10.0 * c;
  off(0, 0) += 4.0;  // leaves the span
  CHECK(pca.score_matrix(off, ctx)[0] > 0.1);
  // The variance rule finds the rank: two components carry all the variance.
  PcaDetectorOptions nearly_all;
  nearly_all.variance = 0.9999;
  PcaDetector by_variance(nearly_all);
  by_variance.fit_matrix(x, ctx);
  CHECK(by_variance.num_components() == 2);
}

TEST_CASE("pca reconstruction error matches scikit-learn", "[baselines][pca]") {
  // scikit-learn 1.2.1: Z = StandardScaler().fit_transform(P); p = PCA(n_components=k).fit(Z);
  // ((Z - p.inverse_transform(p.transform(Z)))**2).sum(axis=1).
  const std::vector<double> k1{0.13638734347470421, 1.0398199544546474, 2.0262021075063945, 2.149930118531402,
                               2.975010190338219,   4.434786164566663,  2.2367997976112113, 0.7491122072583971};
  const std::vector<double> k2{0.10356928998591505, 0.09638948909716599, 0.11554179139303164, 0.9537463250660838,
                               1.889181764796652,   0.06343808161264677, 0.3746840725513948,  0.0809219175970265};
  // Without scaling: PCA(n_components=2).fit(P) on the raw input.
  const std::vector<double> raw2{0.41345861791113997, 0.45921821321392364,  0.38346986737730265, 0.6818133573893088,
                                 0.17926441049836944, 0.029394574291863672, 0.19431504804763222, 0.09834959225859775};
  const Matrix p = reference_input();
  Context ctx;
  auto check = [&](const PcaDetectorOptions& options, const std::vector<double>& expected) {
    PcaDetector pca(options);
    pca.fit_matrix(p, ctx);
    const auto scores = pca.score_matrix(p, ctx);
    REQUIRE(scores.size() == expected.size());
    for (std::size_t i = 0; i < scores.size(); ++i) {
      INFO("row " << i);
      CHECK(scores[i] == Approx(expected[i]).epsilon(1e-9));
    }
    return pca.model_size_bytes();
  };
  CHECK(check(with_components(1), k1) == (4 + 4 + 4 * 1) * sizeof(double));
  CHECK(check(with_components(2), k2) == (4 + 4 + 4 * 2) * sizeof(double));
  check(with_components(2, false), raw2);
}

TEST_CASE("pca variance option picks scikit-learn's number of components", "[baselines][pca]") {
  // scikit-learn 1.2.1 on the standardised reference input: explained_variance_ratio_ =
  // [0.50787, 0.37721, 0.10473, 0.01019]; PCA(n_components=v).n_components_ for v = 0.5, 0.8, 0.9,
  // 0.99 is 1, 2, 3, 4.
  const Matrix p = reference_input();
  Context ctx;
  const std::vector<std::pair<double, std::size_t>> cases{{0.5, 1}, {0.8, 2}, {0.9, 3}, {0.99, 4}, {1.0, 4}};
  for (const auto& [variance, k] : cases) {
    PcaDetectorOptions options;
    options.variance = variance;
    PcaDetector pca(options);
    pca.fit_matrix(p, ctx);
    INFO("variance " << variance);
    CHECK(pca.num_components() == k);
    CHECK(pca.explained_variance_ratio()[0] == Approx(0.5078735036330742).epsilon(1e-10));
    CHECK(pca.explained_variance_ratio()[3] == Approx(0.010193449314174298).epsilon(1e-8));
  }
}

TEST_CASE("pca is thread-count independent, handles constant columns and validates", "[baselines][pca]") {
  Matrix x(10000, 6);
  for (std::size_t r = 0; r < x.rows; ++r)
    for (std::size_t c = 0; c < x.cols; ++c)
      x(r, c) = std::sin(0.001 * r * (c + 1) + c) + (c == 5 ? 0.0 : 0.01 * c * r);
  for (std::size_t r = 0; r < x.rows; ++r) x(r, 4) = 7.0;  // constant column: scale 1, no NaN
  auto run = [&](int threads) {
    Context ctx;
    ctx.threads = threads;
    PcaDetector pca(with_components(2));
    pca.fit_matrix(x, ctx);
    return pca.score_matrix(x, ctx);
  };
  const auto one = run(1);
  CHECK(run(2) == one);
  CHECK(run(3) == one);
  for (const double s : one) REQUIRE(std::isfinite(s));

  Context ctx;
  CHECK_THROWS_AS(PcaDetector(with_components(7)).fit_matrix(x, ctx), opsbench::DataError);
  CHECK_THROWS_AS(PcaDetector().fit_matrix(Matrix(1, 3), ctx), opsbench::DataError);
  CHECK_THROWS_AS(PcaDetector().score_matrix(x, ctx), opsbench::ModelError);
  PcaDetector fitted;
  fitted.fit_matrix(x, ctx);
  CHECK_THROWS_AS(fitted.score_matrix(Matrix(2, 3), ctx), opsbench::DataError);
}

namespace {

PcaDetectorOptions shyu(opsbench::PcaScore score, bool standardize, double quantile) {
  PcaDetectorOptions o;
  o.score = score;
  o.standardize = standardize;
  o.shyu_quantile = quantile;
  return o;
}

}  // namespace

TEST_CASE("pca shyu mode: hand-computed sums, thresholds and OR-rule score", "[baselines][pca]") {
  // Six rows along the axes, mean 0, uncorrelated columns: the sample covariance is
  // diag(8/5, 2/5, 0.18/5) = diag(1.6, 0.4, 0.036); variance shares 0.786, 0.196, 0.018. Major (50%):
  // component 1 alone; minor (eigenvalue < 0.2): component 3; component 2 is neither.
  const Matrix train = from_rows({{2, 0, 0}, {-2, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 0.3}, {0, 0, -0.3}});
  const Matrix row = from_rows({{1, 1, 0.3}});
  Context ctx;
  using opsbench::PcaScore;
  PcaDetector major(shyu(PcaScore::kShyuMajor, false, 0.9));
  major.fit_matrix(train, ctx);
  CHECK(major.num_major() == 1);
  CHECK(major.num_minor() == 1);
  CHECK(major.score_matrix(row, ctx)[0] == Approx(1.0 / 1.6));  // y1^2 / lambda1 = 1 / 1.6
  PcaDetector minor(shyu(PcaScore::kShyuMinor, false, 0.9));
  minor.fit_matrix(train, ctx);
  CHECK(minor.score_matrix(row, ctx)[0] == Approx(0.09 / 0.036));  // y3^2 / lambda3 = 2.5
  // Training sums: T_major = (2.5, 2.5, 0, 0, 0, 0), T_minor = (0, 0, 0, 0, 2.5, 2.5). numpy's 0.9
  // quantile of {0,0,0,0,2.5,2.5}: position 4.5 -> 2.5; the 0.7 quantile: position 3.5 -> 1.25.
  PcaDetector high(shyu(PcaScore::kShyu, false, 0.9));
  high.fit_matrix(train, ctx);
  CHECK(high.major_quantile() == Approx(2.5));
  CHECK(high.minor_quantile() == Approx(2.5));
  CHECK(high.score_matrix(row, ctx)[0] == Approx(1.0));  // max(0.625 / 2.5, 2.5 / 2.5)
  PcaDetector low(shyu(PcaScore::kShyu, false, 0.7));
  low.fit_matrix(train, ctx);
  CHECK(low.score_matrix(row, ctx)[0] == Approx(2.0));  // max(0.625 / 1.25, 2.5 / 1.25)
  CHECK(low.diagnostic_info().at("pca.minor_components") == "1");
  // A larger major share takes component 2 as well (0.786 < 0.9 <= 0.982): no minor left.
  PcaDetectorOptions wide = shyu(PcaScore::kShyuMajor, false, 0.9);
  wide.major_variance = 0.9;
  PcaDetector two(wide);
  two.fit_matrix(train, ctx);
  CHECK(two.num_major() == 2);
  CHECK(two.num_minor() == 1);
  CHECK(two.score_matrix(row, ctx)[0] == Approx(1.0 / 1.6 + 1.0 / 0.4));
}

TEST_CASE("pca shyu mode on standardised data matches numpy", "[baselines][pca]") {
  // numpy 1.24 (/usr/bin/python3): Z = (P - P.mean(0)) / P.std(0); w, V = eigh(cov(Z)) descending;
  // T = (Z @ V)**2 / w; major = [0] (share 0.5079 >= 0.5), minor = [3] (eigenvalue 0.0466 < 0.2);
  // score = max(T_major / quantile(T_major, 0.9), T_minor / quantile(T_minor, 0.9)).
  const std::vector<double> major{1.6228747383841562, 1.236091496331764,  0.2954405867226575, 0.28733426680469254,
                                  0.533073166293744,  0.1009806744601889, 1.3804323477065144, 1.5437727232962852};
  const std::vector<double> minor{1.6409409361356726, 1.6628393678166997,  0.627962575466233, 0.3531821512601096,
                                  0.0865989146460953, 0.27692956382618633, 1.830277079528816, 0.5212694113202747};
  const std::vector<double> combined{1.0353245888405378,  0.9706776176481953,  0.3665713168230575, 0.20616904784444492,
                                     0.34007785299838167, 0.16165682294622466, 1.0684188921542113, 0.9848608904969124};
  using opsbench::PcaScore;
  Context ctx;
  const Matrix p = reference_input();
  for (const auto& [score, expected] : std::vector<std::pair<PcaScore, const std::vector<double>*>>{
           {PcaScore::kShyuMajor, &major}, {PcaScore::kShyuMinor, &minor}, {PcaScore::kShyu, &combined}}) {
    PcaDetector pca(shyu(score, true, 0.9));
    pca.fit_matrix(p, ctx);
    const auto got = pca.score_matrix(p, ctx);
    for (std::size_t i = 0; i < got.size(); ++i) {
      INFO("row " << i);
      CHECK(got[i] == Approx((*expected)[i]).epsilon(1e-9));
    }
  }
  // Thread count does not change the scores; constant training data is refused.
  Context two;
  two.threads = 2;
  PcaDetector a(shyu(PcaScore::kShyu, true, 0.99)), b(shyu(PcaScore::kShyu, true, 0.99));
  a.fit_matrix(p, ctx);
  b.fit_matrix(p, two);
  CHECK(a.score_matrix(p, ctx) == b.score_matrix(p, two));
  CHECK_THROWS_AS(PcaDetector(shyu(PcaScore::kShyu, true, 0.9)).fit_matrix(Matrix(5, 3, 1.0), ctx),
                  opsbench::DataError);
  PcaDetectorOptions bad;
  bad.major_variance = 0;
  CHECK_THROWS_AS(PcaDetector{bad}, opsbench::ConfigError);
}
