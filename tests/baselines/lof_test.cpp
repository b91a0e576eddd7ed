// lof and knn on data with many exact duplicate rows: the grouped neighbour search (equal training
// rows searched once) against scikit-learn 1.2.1 and against LOF computed straight from its
// definition with brute-force neighbour lists (no grouping), plus the declared bad-input behaviour.
// Reference values: tests/reference/make_lof_duplicate_refs.py (scikit-learn 1.2.1). Where different
// points tie exactly at the k-th distance, opsbench keeps the lower training row (the stable
// brute-force order); scikit-learn's choice there follows its heap layout and algorithm, so those
// cases are checked against the definition instead.
#include "opsbench/baselines/lof.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "opsbench/baselines/knn_detector.h"
#include "opsbench/baselines/neighbour_search.h"
#include "opsbench/core/error.h"
#include "opsbench/core/table.h"

namespace {

using namespace opsbench;

// Ten distinct points, point g repeated 1 + g % 4 times (23 rows: g = 0..9, then the points with
// a second copy, a third, a fourth); distances between different points are all distinct, so
// scikit-learn's tie-breaking cannot matter (see tests/reference/make_lof_duplicate_refs.py).
Matrix copies_train() {
  std::vector<int> order;
  for (int copy = 0; copy < 4; ++copy)
    for (int g = 0; g < 10; ++g)
      if (1 + g % 4 > copy) order.push_back(g);
  Matrix x(order.size(), 2);
  for (std::size_t i = 0; i < order.size(); ++i) {
    x(i, 0) = 3 * std::sin(1.7 * order[i] + 0.3);
    x(i, 1) = 2 * std::cos(2.3 * order[i]) + 0.1 * order[i];
  }
  return x;
}

Matrix copies_test() {
  Matrix x(6, 2);
  for (std::size_t i = 0; i < 6; ++i) {
    x(i, 0) = 2.5 * std::cos(0.9 * static_cast<double>(i));
    x(i, 1) = 1.5 * std::sin(1.1 * static_cast<double>(i)) + 0.2;
  }
  return x;
}

LofOptions lof_options(int k, bool novelty) {
  LofOptions o;
  o.n_neighbors = k;
  o.novelty = novelty;
  return o;
}

void check_close(const std::vector<double>& ours, const std::vector<double>& ref, double rel = 1e-9) {
  REQUIRE(ours.size() == ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) {
    INFO("row " << i);
    CHECK(ours[i] == Approx(ref[i]).epsilon(rel).margin(1e-12));
  }
}

// Brute-force neighbour lists in scikit-learn's order: (squared distance, training row), row `self`
// left out; distances as sqrt of the float64 sum of squared differences.
struct BruteList {
  std::vector<double> dist;
  std::vector<std::size_t> index;
};

BruteList brute(const Matrix& train, const double* q, std::size_t k, long self) {
  std::vector<std::pair<double, std::size_t>> all;
  for (std::size_t t = 0; t < train.rows; ++t) {
    if (static_cast<long>(t) == self) continue;
    double s = 0;
    for (std::size_t j = 0; j < train.cols; ++j) s += (q[j] - train(t, j)) * (q[j] - train(t, j));
    all.emplace_back(s, t);
  }
  std::sort(all.begin(), all.end());
  BruteList out;
  for (std::size_t c = 0; c < k; ++c) {
    out.dist.push_back(std::sqrt(all[c].first));
    out.index.push_back(all[c].second);
  }
  return out;
}

// LOF straight from the definition in lof.h, on brute-force lists (the uncollapsed path): returns
// the training LOFs and, when `queries` is given, the novelty LOFs of the queries.
std::vector<double> definition_lof(const Matrix& train, std::size_t k, const Matrix* queries) {
  std::vector<BruteList> lists;
  for (std::size_t r = 0; r < train.rows; ++r) lists.push_back(brute(train, train.row(r), k, static_cast<long>(r)));
  std::vector<double> kdist(train.rows), lrd(train.rows);
  for (std::size_t r = 0; r < train.rows; ++r) kdist[r] = lists[r].dist[k - 1];
  auto density = [&](const BruteList& l) {
    double sum = 0;
    for (std::size_t c = 0; c < k; ++c) sum += std::max(l.dist[c], kdist[l.index[c]]);
    return 1.0 / (sum / static_cast<double>(k) + 1e-10);
  };
  auto factor = [&](const BruteList& l, double own) {
    double sum = 0;
    for (std::size_t c = 0; c < k; ++c) sum += lrd[l.index[c]] / own;
    return sum / static_cast<double>(k);
  };
  for (std::size_t r = 0; r < train.rows; ++r) lrd[r] = density(lists[r]);
  std::vector<double> out;
  if (queries == nullptr) {
    for (std::size_t r = 0; r < train.rows; ++r) out.push_back(factor(lists[r], lrd[r]));
  } else {
    for (std::size_t r = 0; r < queries->rows; ++r) {
      const BruteList l = brute(train, queries->row(r), k, -1);
      out.push_back(factor(l, density(l)));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("lof on duplicate rows matches scikit-learn", "[baselines][lof]") {
  // scikit-learn 1.2.1, -LocalOutlierFactor(n_neighbors=k).fit(train).negative_outlier_factor_ and
  // -LocalOutlierFactor(n_neighbors=k, novelty=True).fit(train).score_samples(test): k = 2 is below
  // the copies of most points, 5 above all of them, 12 above half the rows.
  const std::vector<double> out2{1.0,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.5933887773084892,
                                 1.356483522565274,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.356483522565274,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.0};
  const std::vector<double> nov2{2.313175987214556, 1.0, 1.0, 6707849602.538792, 11698879067.090788,
                                 6197156182.6831875};
  const std::vector<double> out5{1.0177967162811865,
                                 1.2236496629703122,
                                 1.0,
                                 1.0,
                                 1.2246847595792165,
                                 1.0511043781013232,
                                 1.0,
                                 1.0,
                                 1.201526806949475,
                                 1.0306439764080755,
                                 1.2236496629703122,
                                 1.0,
                                 1.0,
                                 1.0511043781013232,
                                 1.0,
                                 1.0,
                                 1.0306439764080755,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.0,
                                 1.0};
  const std::vector<double> nov5{0.9597520147690414, 0.9184932514502726, 1.186913738193978,
                                 1.313412664234518,  1.0214098758638213, 1.0185219578019857};
  const std::vector<double> out12{1.099835930747574,  1.1647346451458052, 0.9914632184078597, 0.961321721919764,
                                  1.0905581742456307, 1.1248926686560037, 1.013840635900852,  0.9653291048448208,
                                  1.2993424893918395, 1.0033624531656475, 1.1647346451458052, 0.9914632184078597,
                                  0.961321721919764,  1.1248926686560037, 1.013840635900852,  0.9653291048448208,
                                  1.0033624531656475, 0.9914632184078597, 0.961321721919764,  1.013840635900852,
                                  0.9653291048448208, 0.961321721919764,  0.9653291048448208};
  const std::vector<double> nov12{1.115221035850819,  1.0888900255706806, 0.9488636171729076,
                                  1.0037950051416262, 0.9779950685959569, 0.9851267898125959};
  Context ctx;
  const std::vector<std::pair<int, std::pair<const std::vector<double>*, const std::vector<double>*>>> cases{
      {2, {&out2, &nov2}}, {5, {&out5, &nov5}}, {12, {&out12, &nov12}}};
  for (const auto& [k, refs] : cases) {
    INFO("k = " << k);
    Lof outlier(lof_options(k, false));
    outlier.fit_matrix(copies_train(), ctx);
    check_close(outlier.training_outlier_factors(), *refs.first);
    Lof novelty(lof_options(k, true));
    novelty.fit_matrix(copies_train(), ctx);
    check_close(novelty.score_matrix(copies_test(), ctx), *refs.second);
    CHECK(novelty.diagnostic_info().at("lof.distinct_training_rows") == "10");
  }
  // scikit-learn 1.2.1: NearestNeighbors(n_neighbors=5).fit(train).kneighbors(test)[0].
  KnnDetectorOptions o;
  KnnDetector knn(o);
  knn.fit_matrix(copies_train(), ctx);
  check_close(knn.score_matrix(copies_test(), ctx), {1.7774792822748835, 1.7111788174725644, 1.7631166958396107,
                                                     1.3524123256880476, 1.368595827457486, 1.3507448052556263});
  o.method = "mean";
  KnnDetector mean(o);
  mean.fit_matrix(copies_train(), ctx);
  check_close(mean.score_matrix(copies_test(), ctx), {1.5235580683312482, 0.9320182270717059, 1.5744001397184317,
                                                      0.9434359063675464, 1.2096294907787601, 0.7659214555857803});
}

TEST_CASE("lof with grouped duplicates equals lof from its definition, bit for bit", "[baselines][lof]") {
  // 3 columns of values 0..2 (27 distinct points, ~11 copies each), shifted by an offset that makes
  // the float32 screening useless: k below, near and above the copies; both modes; 1 and 2 threads.
  std::mt19937_64 engine(3);
  std::uniform_int_distribution<int> level(0, 2);
  for (const double offset : {0.0, 1e6}) {
    Matrix train(300, 3), queries(40, 3);
    for (auto& v : train.data) v = level(engine) + offset;
    for (auto& v : queries.data) v = level(engine) + 0.5 * level(engine) + offset;
    for (const int k : {3, 11, 40}) {
      INFO("offset " << offset << ", k " << k);
      const auto want_train = definition_lof(train, static_cast<std::size_t>(k), nullptr);
      const auto want_queries = definition_lof(train, static_cast<std::size_t>(k), &queries);
      for (const int threads : {1, 2}) {
        Context ctx;
        ctx.threads = threads;
        Lof outlier(lof_options(k, false));
        outlier.fit_matrix(train, ctx);
        CHECK(outlier.training_outlier_factors() == want_train);
        Lof novelty(lof_options(k, true));
        novelty.fit_matrix(train, ctx);
        CHECK(novelty.score_matrix(queries, ctx) == want_queries);
        CHECK(novelty.diagnostic_info().at("lof.distinct_training_rows") == "27");
      }
    }
  }
}

TEST_CASE("neighbour search groups equal rows and keeps the brute-force order", "[baselines][lof][knn]") {
  // -0.0 and +0.0 are one point; copies among the queries get identical lists.
  Matrix train(6, 2);
  const double rows[6][2] = {{0.0, 1.0}, {-0.0, 1.0}, {2.0, 2.0}, {0.0, 1.0}, {2.0, 2.0}, {5.0, -0.0}};
  for (std::size_t i = 0; i < 6; ++i)
    for (std::size_t j = 0; j < 2; ++j) train(i, j) = rows[i][j];
  NeighbourIndex index;
  index.fit(train);
  CHECK(index.size() == 6);
  CHECK(index.distinct_rows() == 3);
  const Neighbours self = index.query(train, 4, true, 1);
  // Row 1 (a copy of rows 0 and 3): its copies first, lower index first, then rows 2 and 4.
  CHECK(std::vector<std::int32_t>(self.index_row(1), self.index_row(1) + 4) == std::vector<std::int32_t>{0, 3, 2, 4});
  CHECK(std::vector<std::int32_t>(self.index_row(4), self.index_row(4) + 4) == std::vector<std::int32_t>{2, 0, 1, 3});
  Matrix queries(3, 2);
  queries(0, 0) = 2.0, queries(0, 1) = 1.5;
  queries(1, 0) = 0.0, queries(1, 1) = 0.0;
  queries(2, 0) = 2.0, queries(2, 1) = 1.5;
  const Neighbours nb = index.query(queries, 6, false, 1);
  for (std::size_t r = 0; r < 3; ++r) {
    const BruteList want = brute(train, queries.row(r), 6, -1);
    for (std::size_t c = 0; c < 6; ++c) {
      INFO("query " << r << " rank " << c);
      CHECK(nb.index_row(r)[c] == static_cast<std::int32_t>(want.index[c]));
      CHECK(nb.distance_row(r)[c] == want.dist[c]);
    }
  }
}

TEST_CASE("lof and knn: declared behaviour on bad input", "[baselines][lof][knn]") {
  Context ctx;
  // Fewer rows than k, in both modes, including duplicates: k is capped at n - 1 as scikit-learn does.
  Matrix three(3, 2, 1.0);
  three(2, 0) = 4.0;
  Lof outlier(lof_options(20, false));
  outlier.fit_matrix(three, ctx);
  CHECK(outlier.effective_neighbors() == 2);
  // scoring 2 rows in outlier mode: their own k is capped at 1
  const auto two = outlier.score_matrix(Matrix(2, 2, 3.0), ctx);
  CHECK(two == std::vector<double>{1.0, 1.0});
  CHECK_THROWS_AS(outlier.score_matrix(Matrix(1, 2, 3.0), ctx), DataError);
  KnnDetectorOptions k9;
  k9.n_neighbors = 9;
  KnnDetector knn(k9);
  knn.fit_matrix(three, ctx);
  const auto s = knn.score_matrix(Matrix(1, 2, 1.0), ctx);
  CHECK(s[0] == Approx(3.0));  // k capped at 3: the farthest training row

  // k larger than the copies of every row: the search looks past the group.
  Matrix pairs(8, 1);
  for (std::size_t i = 0; i < 8; ++i) pairs(i, 0) = static_cast<double>(i / 2);  // 0 0 1 1 2 2 3 3
  Lof wide(lof_options(3, false));
  wide.fit_matrix(pairs, ctx);
  CHECK(definition_lof(pairs, 3, nullptr) == wide.training_outlier_factors());

  // Constant columns add nothing to any distance: the same LOF as without them.
  Matrix with_constant(pairs.rows, 3, 7.5);
  for (std::size_t i = 0; i < pairs.rows; ++i) with_constant(i, 1) = pairs(i, 0);
  Lof padded(lof_options(3, false));
  padded.fit_matrix(with_constant, ctx);
  CHECK(padded.training_outlier_factors() == wide.training_outlier_factors());

  // Missing values (e.g. an all-missing column) never reach the search: Table::to_matrix refuses
  // them with a DataError naming the column (impute in the suite's [preprocess]).
  Table table;
  table.add_column(Column::numeric("ok", {1.0, 2.0, 3.0}));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  table.add_column(Column::numeric("empty", {nan, nan, nan}));
  CHECK_THROWS_AS(Lof().fit(table, ctx), DataError);
  CHECK_THROWS_AS(KnnDetector().fit(table, ctx), DataError);
  // NaN / Inf given directly: DataError naming row and column, in fit and in score.
  Matrix inf = pairs;
  inf(5, 0) = -std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(Lof().fit_matrix(inf, ctx), Catch::Contains("row 5, column 0"));
  CHECK_THROWS_AS(knn.score_matrix(Matrix(1, 2, nan), ctx), DataError);
}
